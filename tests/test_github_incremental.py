"""Incremental selection: which PR hunks a push selects, and what happens to earlier findings."""

from __future__ import annotations

from typing import Any

import pytest

from reviewbot.diff import parse_github_files
from reviewbot.github.incremental import carry_findings, content_key, open_finding, select_hunks, subset
from reviewbot.models import Confidence, Diff, Finding, Severity


def diff(*files: tuple[str, str | None]) -> Diff:
    entries: list[dict[str, Any]] = []
    for name, patch in files:
        entry: dict[str, Any] = {"filename": name, "status": "modified"}
        if patch is not None:
            entry["patch"] = patch
        entries.append(entry)
    return parse_github_files(entries)


# The PR's own diff: two hunks in app.py (lines 2-3 added; line 40 added), one in util.py.
PR = diff(
    ("app.py", "@@ -1,3 +1,5 @@\n a\n+b\n+c\n d\n e\n@@ -36,4 +38,5 @@\n w\n x\n+y\n z\n q\n"),
    ("util.py", "@@ -10,2 +10,3 @@\n k\n+l\n m\n"),
)

CASES = [
    # a push that changes one added line of the first hunk
    ("edit-own-line", diff(("app.py", "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n")), ["app.py:1"]),
    # a merge of the base branch: lines outside every PR hunk (a base change at line 20, another file)
    ("base-merge", diff(("app.py", "@@ -18,3 +18,4 @@\n r\n s\n+base\n t\n"), ("other.py", "@@ -1 +1 @@\n-o\n+p\n")),
     []),
    # a line of the hunk's context changed (a merge editing it, or a push reverting a PR line to the base):
    # the model is sent that context, so the hunk is reviewed again
    ("context-line-changed", diff(("app.py", "@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n")), ["app.py:1"]),
    # an edit of the line right after the hunk's last context line: counted by its added line, outside
    ("edit-next-to-hunk", diff(("app.py", "@@ -5,2 +5,2 @@\n e\n-f0\n+f\n")), []),
    # a pure deletion of a line the PR had added, next to its other added line
    ("delete-own-line", diff(("app.py", "@@ -1,4 +1,3 @@\n a\n b\n-X\n c\n")), ["app.py:1"]),
    # a pure deletion between two context lines of the hunk, and one right after its last line (its edge)
    ("delete-in-context", diff(("app.py", "@@ -4,3 +4,2 @@\n d\n-gone\n e\n")), ["app.py:1"]),
    ("delete-at-edge", diff(("app.py", "@@ -5,2 +5 @@\n e\n-gone\n")), ["app.py:1"]),
    ("delete-past-edge", diff(("app.py", "@@ -6,2 +6 @@\n f\n-gone\n")), []),
    # a file GitHub shows without a patch, or renamed: every PR hunk of it
    ("no-patch", diff(("util.py", None)), ["util.py:10"]),
    ("renamed", parse_github_files([{"filename": "util.py", "previous_filename": "u.py", "status": "renamed",
                                     "patch": "@@ -40 +40 @@\n-x\n+y\n"}]), ["util.py:10"]),
    ("nothing", diff(), []),
]


def _names(pr: Diff, ids: tuple[str, ...]) -> list[str]:
    by_id = {h.id: h for h in pr.hunks}
    return [f"{by_id[i].path}:{by_id[i].new_start}" for i in ids]


@pytest.mark.parametrize(("name", "delta", "expected"), CASES, ids=[c[0] for c in CASES])
def test_selection(name: str, delta: Diff, expected: list[str]) -> None:
    sel = select_hunks(PR, delta)
    assert _names(PR, sel.selected) == expected
    assert sel.changed == len(expected) and sel.earlier == len(PR.hunks) - len(expected)


def test_hunks_left_unreviewed_carry_over_by_content_not_position() -> None:
    util = next(h for h in PR.hunks if h.path == "util.py")
    shifted = diff(("util.py", "@@ -20,2 +25,3 @@\n k\n+l\n m\n"))  # same lines, moved down by an edit above
    assert content_key(shifted.hunks[0]) == content_key(util)
    sel = select_hunks(PR, diff(), carry_keys=[content_key(util)])
    assert _names(PR, sel.selected) == ["util.py:10"] and sel.carried == 1 and sel.changed == 0


def test_subset_keeps_only_the_selected_hunks() -> None:
    first = PR.hunks[0]
    sub = subset(PR, [first.id])
    assert [h.id for h in sub.hunks] == [first.id] and [f.path for f in sub.files] == ["app.py"]


def _finding(fp: str, path: str, line: int) -> Finding:
    return Finding("sql-injection", Severity.HIGH, Confidence.HIGH, path, line, line, "t", "b", "model:m", fp,
                   hunk_id=None)


def test_earlier_findings_stay_move_or_resolve() -> None:
    before = diff(("app.py", "@@ -1,3 +1,5 @@\n a\n+query(x)\n+eval(y)\n d\n e\n"),
                  ("util.py", "@@ -10,2 +10,3 @@\n k\n+os.system(z)\n m\n"))
    stays = open_finding(_finding("a" * 32, "app.py", 2), before)  # query(x): its hunk is not reviewed again
    seen = open_finding(_finding("b" * 32, "util.py", 11), before)  # os.system: reviewed again, not reported
    gone = open_finding(_finding("c" * 32, "app.py", 3), before)  # eval(y): deleted
    again = open_finding(_finding("d" * 32, "app.py", 2), before)  # reported again this run
    assert stays and seen and gone and again
    after = diff(("app.py", "@@ -1,3 +1,6 @@\n a\n+new\n+query(x)\n+safe(y)\n d\n e\n"),
                 ("util.py", "@@ -10,2 +10,3 @@\n k\n+os.system(z)\n m\n"))
    util = next(h for h in after.hunks if h.path == "util.py")
    carried = carry_findings([stays, seen, gone, again], [_finding("d" * 32, "app.py", 3)], [util.id], after)
    (kept,) = carried.findings
    assert kept.fingerprint == "a" * 32 and (kept.start_line, kept.end_line) == (3, 3)  # moved with its code
    assert kept.severity is Severity.HIGH and kept.source == "model:m"
    assert sorted(r.fingerprint for r in carried.resolved) == ["b" * 32, "c" * 32]


def test_the_state_stays_small_with_many_findings() -> None:
    from reviewbot.github.rereview import RunBudget, full_scope, next_state
    from reviewbot.github.state import ENV_STATE_KEY, MAX_OPEN_FINDINGS, LoadedState, render_block, state_key
    from reviewbot.models import Coverage, Plan, RunResult, RunState

    lines = "".join(f"+eval(x{i})\n" for i in range(400))
    big = diff(("app.py", f"@@ -0,0 +1,400 @@\n{lines}"))
    findings = tuple(
        Finding("code-injection", Severity.MEDIUM, Confidence.HIGH, "app.py", i + 1, i + 1, "t" * 200, "b", "model:m",
                f"{i:032x}")
        for i in range(400)
    )
    result = RunResult(findings, (), Plan((), (), 0, "conservative"), Coverage(1, 1, ()), RunState.COMPLETE)
    state = next_state(
        repository="octo/demo", pull_number=7, head_sha="1" * 40, policy_digest="d",
        loaded=LoadedState(None, "", False),
        budget=RunBudget(100, 100, 100, 0, True), result=result, pr=big, scope=full_scope(big, "first"),
        posted=[f.fingerprint for f in findings], resolved=[f"{i:032x}" for i in range(400, 800)], cost_usd=0.0,
    )
    assert len(state.open) == MAX_OPEN_FINDINGS and not state.findings_complete  # the next run reviews everything
    assert len(render_block(state, state_key({ENV_STATE_KEY: "k"}))) < 40_000


def _state_for(pr: Diff, result: Any) -> Any:
    from reviewbot.github.rereview import RunBudget, full_scope, next_state
    from reviewbot.github.state import LoadedState

    return next_state(
        repository="octo/demo", pull_number=7, head_sha="1" * 40, policy_digest="d",
        loaded=LoadedState(None, "", False),
        budget=RunBudget(100, 100, 100, 0, True), result=result, pr=pr, scope=full_scope(pr, "first"),
        posted=[], resolved=[], cost_usd=0.0,
    )


def test_a_run_that_leaves_thousands_of_hunks_unreviewed_still_fits_its_state_in_the_summary() -> None:
    # Before: every unreviewed hunk's key went into the block, which then outgrew the summary comment,
    # so the state was lost and the per-PR budget with it. Now the list is capped, and the next run,
    # which cannot know what was left, reviews everything under a state that still verifies.
    from reviewbot.github.rereview import decide_scope
    from reviewbot.github.state import ENV_STATE_KEY, LoadedState, parse_block, render_block, state_key
    from reviewbot.github.summary import SUMMARY_LIMIT
    from reviewbot.models import Coverage, Plan, RunResult, RunState, SkippedItem, SkipReason

    files = [(f"src/m{i}.py", f"@@ -0,0 +1,1 @@\n+x = {i}\n") for i in range(3000)]
    big = diff(*files)
    skipped = tuple(SkippedItem(h.path, SkipReason.OVER_BUDGET, "budget", hunk_id=h.id) for h in big.hunks)
    result = RunResult((), (), Plan((), (), 0, "conservative"), Coverage(3000, 0, skipped), RunState.PARTIAL,
                       skipped=skipped)
    state = _state_for(big, result)
    key = state_key({ENV_STATE_KEY: "k"})
    block = render_block(state, key)
    assert len(block) + 10_000 + 200 <= SUMMARY_LIMIT  # with the shortest report run.py writes under it
    assert not state.unreviewed_complete and len(state.unreviewed) < 3000
    parsed = parse_block(block)
    assert not isinstance(parsed, str) and parsed.state == state
    scope = decide_scope(None, None, big, head_sha="1" * 40,  # type: ignore[arg-type]  # no call: a full review
                         loaded=LoadedState(state, "", True), policy_digest="d", full_asked=False)
    assert scope.full and "more hunks unreviewed than the state can carry" in scope.reason


def test_findings_on_very_long_paths_still_fit_the_state_in_the_summary() -> None:
    from reviewbot.github.state import ENV_STATE_KEY, render_block, state_key
    from reviewbot.github.summary import SUMMARY_LIMIT
    from reviewbot.models import Coverage, Plan, RunResult, RunState

    long_dir = "/".join(["d" * 200] * 10)
    files = [(f"{long_dir}/f{i}.py", "@@ -0,0 +1,1 @@\n+eval(x)\n") for i in range(60)]
    pr = diff(*files)
    findings = tuple(
        Finding("code-injection", Severity.MEDIUM, Confidence.HIGH, h.path, 1, 1, "t", "b", "model:m", f"{i:032x}",
                hunk_id=h.id)
        for i, h in enumerate(pr.hunks)
    )
    result = RunResult(findings, (), Plan((), (), 0, "conservative"), Coverage(60, 60, ()), RunState.COMPLETE)
    state = _state_for(pr, result)
    assert len(render_block(state, state_key({ENV_STATE_KEY: "k"}))) + 10_000 + 200 <= SUMMARY_LIMIT
    assert not state.findings_complete  # what was cut is said, and the next run reviews everything
