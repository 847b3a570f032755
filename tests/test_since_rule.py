"""One selection rule (DESIGN.md §5a) for both callers: `reviewbot diff --since REV` and the Action's re-review.

Each case is a real git history: the base branch, a first push (the last reviewed head), then
a second push or a merge of the base branch. The same history goes to both callers: to
``GitSource(since=...)`` as git shows it, and to :func:`reviewbot.github.rereview.decide_scope`
as GitHub's files and compare APIs list it (built from the same ``git diff`` output). Both must
send the model the same PR hunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from reviewbot.diff import parse_github_files
from reviewbot.github.rereview import decide_scope
from reviewbot.github.state import LoadedState, ReviewState
from reviewbot.models import Diff
from reviewbot.sources import GitSource
from tests.test_since import commit, git, isolated_git, lines, write  # noqa: F401 (isolated_git: autouse fixture)

# The first push, in app.py (40 lines "line N" on the base branch):
#   hunk A, new lines 7-16: line 10 and line 13 replaced;
#   hunk B, new lines 25-34: a line inserted after line 27, line 30 replaced (new line 31).
PUSH1 = {
    "l10": "guard = check(user, strict=True)",
    "l13": "run_admin(user)",
    "l27": "line 27\nb = sanitize(b)",
    "l30": "mid = eval(b)",
}


def app(edits: dict[str, str], drop: tuple[int, ...] = ()) -> str:
    """app.py: :func:`lines` with some lines replaced and the lines numbered ``drop`` deleted."""
    kept = lines(40, **edits).splitlines(keepends=True)
    return "".join(line for i, line in enumerate(kept, 1) if i not in drop)


def _push(*, drop: tuple[int, ...] = (), **edits: str) -> Callable[[Path], None]:
    """The PR's second push: the first push's app.py, edited."""

    def go(repo: Path) -> None:
        write(repo, "app.py", app(PUSH1 | edits, drop))
        commit(repo, "second push")

    return go


def _merge(*, drop: tuple[int, ...] = (), **edits: str) -> Callable[[Path], None]:
    """The base branch edits app.py (and adds a file of its own); the PR merges it."""

    def go(repo: Path) -> None:
        git(repo, "switch", "-q", "main")
        write(repo, "app.py", app(edits, drop))
        write(repo, "main_only.py", "x = 1\n")
        commit(repo, "main moves on")
        git(repo, "switch", "-q", "feature")
        git(repo, "merge", "-q", "--no-edit", "main")

    return go


CASES: list[tuple[str, Callable[[Path], None], list[int]]] = [
    # A push that reverts line 10 back to the base: it becomes context of hunk A (now from line 10), whose
    # remaining change the model judged with the strict check beside it.
    ("revert-to-base", _push(l10="line 10"), [10]),
    # A push that edits the line right after hunk A's context: the PR's own change, hunk A grows.
    ("edit-next-to-hunk", _push(l17="log(user)"), [7]),
    # A push that removes the line the first push inserted (a pure deletion inside hunk B, away from its
    # other change).
    ("delete-inserted-line", _push(l27="line 27"), [27]),
    # A push that deletes the base line right after hunk A's context: the PR's own deletion, hunk A grows.
    ("delete-next-to-hunk", _push(drop=(17,)), [7]),
    # A merge of the base branch that changes nothing near a PR hunk: none of the base's changes.
    ("merge-elsewhere", _merge(l20="from_main = 1"), []),
    # A merge that edits a context line of hunk A: the hunk the model is sent changed.
    ("merge-edits-context", _merge(l8="user = load(request)"), [7]),
    # A merge that edits the line right after hunk A's context: outside it (an edit counts by its added line).
    ("merge-edits-next-to-hunk", _merge(l17="from_main = 1"), []),
    # A merge that deletes a context line of hunk A (a pure deletion inside it; hunk A now starts at 6).
    ("merge-deletes-in-context", _merge(drop=(8,)), [6]),
    # A merge that deletes the line right after hunk A's context: a pure deletion at its edge counts for it.
    ("merge-deletes-at-edge", _merge(drop=(17,)), [7]),
    # ... and one line further it does not.
    ("merge-deletes-past-edge", _merge(drop=(18,)), []),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "--initial-branch=main")
    write(repo, "app.py", lines(40))
    commit(repo, "base")
    git(repo, "switch", "-q", "-c", "feature")
    write(repo, "app.py", app(PUSH1))
    commit(repo, "first push")
    return repo


def files_api(repo: Path, revs: str) -> list[dict[str, Any]]:
    """What GitHub's files (or compare) API lists for ``git diff REVS``: each file's name, status and patch."""
    text = git(repo, "diff", "--no-color", "--no-ext-diff", "--no-renames", revs, "--")
    entries: list[dict[str, Any]] = []
    for block in re.split(r"^diff --git ", text, flags=re.M)[1:]:
        head, _, patch = block.partition("\n@@")
        name = re.search(r"^\+\+\+ b/(.+)$", head, re.M)
        assert name is not None, head
        status = "added" if "\nnew file mode" in head else "modified"
        entries.append({"filename": name.group(1), "status": status, "patch": "@@" + patch})
    return entries


def action_selection(repo: Path, last: str) -> Diff:
    """The Action's re-review scope for the head, with a trusted state whose last reviewed head is ``last``."""
    head = git(repo, "rev-parse", "HEAD")
    compare = files_api(repo, f"{last}...{head}")
    repository = SimpleNamespace(
        compare=lambda base, head: SimpleNamespace(status="ahead", files=[SimpleNamespace(raw_data=e) for e in compare])
    )
    pull = SimpleNamespace(get_commits=lambda: [SimpleNamespace(sha=last), SimpleNamespace(sha=head)])
    state = ReviewState(
        repository="octo/demo",
        pull_number=7,
        head_sha=last,
        policy_digest="policy",
        runs=1,
        tokens_by_lane=(("security", 100),),
        cost_usd=0.0,
        posted=(),
        resolved=(),
        open=(),
        unreviewed=(),
    )
    pr = parse_github_files(files_api(repo, f"main...{head}"))
    scope = decide_scope(
        cast(Any, repository),
        cast(Any, pull),
        pr,
        head_sha=head,
        loaded=LoadedState(state, "signed by the bot", True),
        policy_digest="policy",
        full_asked=False,
    )
    assert not scope.full, scope.reason
    return scope.diff


def starts(diff: Diff) -> list[tuple[str, int]]:
    return [(h.path, h.new_start) for h in diff.hunks]


@pytest.mark.parametrize(("name", "second", "expected"), CASES, ids=[c[0] for c in CASES])
def test_since_and_the_action_select_the_same_hunks(
    repo: Path, name: str, second: Callable[[Path], None], expected: list[int]
) -> None:
    last = git(repo, "rev-parse", "HEAD")
    second(repo)
    pr = GitSource(repo, base="main").read()
    # the same PR hunks on both sides, so the selections compare like for like
    assert starts(pr) == starts(parse_github_files(files_api(repo, "main...HEAD")))

    since = GitSource(repo, base="main", since=last).read()
    action = action_selection(repo, last)

    assert starts(since) == starts(action) == [("app.py", n) for n in expected]
    assert {h.id for h in since.hunks} == {h.id for h in action.hunks}
