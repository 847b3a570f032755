"""Re-reviews end to end (DESIGN.md §5a): `reviewbot github` on push after push of one pull request.

The fake GitHub holds a real commit history here (base branch, PR commits, a force-push, a
merge of the base branch), so the files API, the PR's commits list and the compare endpoint
answer as GitHub would; the fake model server's request log shows what each run sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewbot.github.state import parse_block
from reviewbot.policy import default_policy_text
from tests.fakes.github_server import FakeGitHub
from tests.test_github_e2e import (  # noqa: F401 (fixtures)
    SECRET,
    World,
    keyed,
    plain,
    review_posts,
    world,
)

Files = dict[str, str]


def _module(name: str, n: int) -> str:
    return "".join(f"def {name}_{i}(value):\n    return value + {i}\n\n" for i in range(n))


LOGIN = "src/auth/login.py"
VIEWS = "src/app/views.py"
BASE_FILES: Files = {LOGIN: _module("check", 20), VIEWS: _module("view", 20), "README.md": "# demo\n"}
SQL = "    q = \"SELECT * FROM users WHERE name = '\" + name + \"'\"\n"
EVAL = "    state = eval(data)\n"


def insert(text: str, after_line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[:after_line]) + new + "".join(lines[after_line:])


class History:
    """A pull request's branches in the fake GitHub: push commits, force-push, merge the base."""

    def __init__(self, fake: FakeGitHub, number: int = 7) -> None:
        self.fake = fake
        self.number = number
        self.base = fake.commit(BASE_FILES, message="base")
        self.head = self.base
        self.trees: dict[str, Files] = {self.base: dict(BASE_FILES)}
        pr = fake.pulls[number]
        pr.files = []
        pr.base_sha = self.base

    def tree(self, sha: str | None = None) -> Files:
        return dict(self.trees[sha or self.head])

    def push(self, files: Files, *, parents: list[str] | None = None, message: str = "push") -> str:
        sha = self.fake.commit(files, parents if parents is not None else [self.head], message)
        self.trees[sha] = dict(files)
        self.head = sha
        self.fake.pulls[self.number].head_sha = sha
        return sha

    def advance_base(self, files: Files) -> str:
        sha = self.fake.commit(files, [self.base], "base moves")
        self.trees[sha] = dict(files)
        self.base = sha
        self.fake.pulls[self.number].base_sha = sha
        return sha


def push1_files() -> Files:
    files = dict(BASE_FILES)
    files[LOGIN] = insert(insert(files[LOGIN], 3, "    name = value\n" + SQL), 40, EVAL)
    files[VIEWS] = insert(files[VIEWS], 9, "    log(value)\n")
    return files


@pytest.fixture
def rr(keyed: World) -> Iterator[tuple[World, History]]:  # noqa: F811
    h = History(keyed.fake)
    h.push(push1_files(), message="push 1")
    keyed.event()
    yield keyed, h


def review_calls(w: World, start: int = 0) -> list[dict[str, Any]]:
    assert w.openai is not None
    return [b for b in w.openai.bodies()[start:] if b.get("input") != "ping"]


def sent_hunks(w: World, start: int = 0) -> list[dict[str, Any]]:
    return [hunk for body in review_calls(w, start) for hunk in json.loads(body["input"])["hunks"]]


def mark(w: World) -> int:
    assert w.openai is not None
    return len(w.openai.bodies())


def summary_body(w: World) -> str:
    (comment,) = [c for c in w.pull().issue_comments if c.login == w.fake.bot_login]
    return comment.body


def state_of(w: World) -> Any:
    parsed = parse_block(summary_body(w))
    assert not isinstance(parsed, str), parsed
    return parsed.state


def run(w: World, capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    w.event()
    code, _, err = w.run(*argv, capsys=capsys)
    assert "Traceback" not in err
    return code


def test_push_two_sends_the_model_only_the_new_hunk(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    assert run(w, capsys) == 1
    first = sent_hunks(w)
    assert {x["path"] for x in first} == {LOGIN, VIEWS} and len(first) == 3
    st1 = state_of(w)
    assert st1.head_sha == h.head and st1.runs == 1 and st1.tokens_total > 0 and len(st1.open) == 2
    assert "Full review (no earlier review state" in plain(summary_body(w))
    reviews_before = len(review_posts(w))

    files = h.tree()
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    start = mark(w)
    h.push(files, message="push 2")
    code = run(w, capsys)

    assert code == 1  # the SQL injection found by push 1 is still open: the gate still holds
    second = sent_hunks(w, start)
    assert len(second) == 1 and second[0]["path"] == VIEWS and "audit(value)" in second[0]["text"]
    assert len(review_posts(w)) == reviews_before  # nothing new; earlier findings are never reposted
    body = plain(summary_body(w))
    assert "Reviewed the 1 commit since " + st1.head_sha[:7] + ": 1 hunk; 3 hunks were reviewed in earlier runs" \
        in body
    assert "### Resolved since an earlier run" not in body and "2 findings" in body
    st2 = state_of(w)
    assert st2.runs == 2 and st2.head_sha == h.head and st2.tokens_total > st1.tokens_total
    assert {f.fingerprint for f in st2.open} == {f.fingerprint for f in st1.open}
    assert w.outputs()["findings"] == "2"


def test_a_push_that_removes_flagged_code_resolves_only_that_finding(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    run(w, capsys)
    files = h.tree()
    files[LOGIN] = files[LOGIN].replace(EVAL, "    state = json.loads(data)\n")
    start = mark(w)
    h.push(files)
    assert run(w, capsys) == 1
    assert [x["path"] for x in sent_hunks(w, start)] == [LOGIN]  # the edited hunk only
    body = plain(summary_body(w))
    resolved = body.split("### Resolved since an earlier run", 1)[1]
    assert f"`{LOGIN}` line 41" in resolved and "1 finding (1 high)" in body
    assert w.outputs()["findings"] == "1"


def test_force_push_triggers_a_full_review(rr: tuple[World, History], capsys: pytest.CaptureFixture[str]) -> None:
    w, h = rr
    run(w, capsys)
    rewritten = push1_files()
    rewritten[VIEWS] = insert(rewritten[VIEWS], 50, "    audit(value)\n")
    start = mark(w)
    h.push(rewritten, parents=[h.base], message="rebased")  # the old head is no ancestor of the new one
    run(w, capsys)
    assert len(sent_hunks(w, start)) == 4
    assert "history was rewritten (force-push or rebase)" in plain(summary_body(w))


def test_unknown_last_sha_triggers_a_full_review(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    run(w, capsys)
    old = h.head
    files = h.tree()
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    h.push(files)
    w.fake.garbage_collected.add(old)  # gone after a force-push: compare answers 404
    start = mark(w)
    run(w, capsys)
    assert len(sent_hunks(w, start)) == 4
    assert "GitHub no longer knows the last reviewed commit" in plain(summary_body(w))


def test_a_merge_of_the_base_branch_reviews_none_of_the_bases_changes(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    run(w, capsys)
    last = h.head
    base_files = dict(BASE_FILES)
    base_files[VIEWS] = insert(base_files[VIEWS], 30, "    base_change(value)\n")
    base_files["src/auth/tokens.py"] = "def issue():\n    return os.urandom(8)\n"
    new_base = h.advance_base(base_files)
    merged = h.tree()
    merged[VIEWS] = insert(merged[VIEWS], 31, "    base_change(value)\n")
    merged["src/auth/tokens.py"] = base_files["src/auth/tokens.py"]
    start = mark(w)
    h.push(merged, parents=[last, new_base], message="Merge main")
    assert run(w, capsys) == 1

    assert w.openai is not None and w.openai.bodies()[start:] == []  # no model call at all, not even a probe
    body = plain(summary_body(w))
    assert f"Reviewed the 1 commit since {last[:7]}: 0 hunks; 3 hunks were reviewed in earlier runs" in body
    assert "2 findings of earlier runs are still open" in body and "Local checks" not in body
    assert state_of(w).head_sha == h.head and w.outputs()["findings"] == "2"


def test_a_state_block_by_another_identity_is_ignored_and_the_bots_own_holds(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    run(w, capsys)
    genuine = summary_body(w)
    # mallory copies the bot's block, claims nothing was spent and that a later head was reviewed
    forged = genuine.replace(h.head, "f" * 40)
    w.fake.add_issue_comment(7, "mallory", forged)
    files = h.tree()
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    start = mark(w)
    h.push(files)
    run(w, capsys)
    assert len(sent_hunks(w, start)) == 1  # still incremental from the bot's own state
    body = plain(summary_body(w))
    assert "by other accounts carry something that looks like a reviewbot state block: ignored" in body
    assert state_of(w).runs == 2


def test_a_collaborator_editing_the_bots_block_breaks_the_signature(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    w.monkeypatch.setenv("REVIEWBOT_BUDGET_TOKENS_PER_PR", "1000000")
    run(w, capsys)
    (comment,) = w.pull().issue_comments
    st = state_of(w)
    # re-encode the state with nothing spent, keep the old signature (the editor has no key)
    import base64
    import re

    from reviewbot.github.state import canonical

    cheap = type(st)(**{**st.__dict__, "tokens_by_lane": ()})
    forged = re.sub(r"(reviewbot:state v1 )\S+", lambda m: m.group(1) + base64.b64encode(canonical(cheap)).decode(),
                    comment.body)
    w.fake.edit_issue_comment(comment.id, forged)
    files = h.tree()
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    start = mark(w)
    h.push(files)
    run(w, capsys)

    assert len(sent_hunks(w, start)) == 4  # no trusted state: a full review
    body = plain(summary_body(w))
    assert "signature does not verify" in body and "could not be verified" in body
    assert "capped at the per-run budget" in body
    st2 = state_of(w)
    assert not st2.spend_verified and st2.runs == 1


def test_no_key_trusts_a_block_only_at_the_bots_latest_review(
    world: World, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    w = world
    h = History(w.fake)
    files = dict(BASE_FILES)
    files["src/settings_local.py"] = f'import os\nAPI_TOKEN = "{SECRET}"\n'
    h.push(files)
    run(w, capsys)  # offline: a local secret finding, one review on this head
    assert review_posts(w)[-1].body["commit_id"] == h.head
    st = state_of(w)
    assert "unsigned" in summary_body(w)

    files[VIEWS] = insert(files[VIEWS], 5, "    more(value)\n")
    h.push(files)
    run(w, capsys)
    assert "Reviewed the 1 commit since" in plain(summary_body(w))  # its SHA is the bot's latest review

    # a collaborator rewrites the unsigned block to name a SHA the bot never reviewed
    (comment,) = w.pull().issue_comments
    never = h.head
    files[VIEWS] = insert(files[VIEWS], 30, "    again(value)\n")
    h.push(files)
    w.fake.edit_issue_comment(comment.id, comment.body.replace(st.head_sha, never))
    run(w, capsys)
    body = plain(summary_body(w))
    assert "Full review (" in body and "latest review" in body
    del st


def test_over_five_pushes_the_pr_never_exceeds_its_budget(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    assert w.openai is not None
    policy = default_policy_text().replace("max_output_tokens_per_call: 4000", "max_output_tokens_per_call: 600")
    assert policy != default_policy_text()
    w.fake.contents[(h.base, ".github/reviewbot.yml")] = policy.encode()
    # Room for the first push whole (both lanes' fixed prompts, the general one with its escalation
    # schema), so that the budget runs out on a later push.
    per_pr = 11000
    w.monkeypatch.setenv("REVIEWBOT_BUDGET_TOKENS_PER_PR", str(per_pr))
    states, spent_runs = [], 0
    for i in range(5):
        if i:
            files = h.tree()
            files[VIEWS] = insert(files[VIEWS], 12 + 8 * i, f"    step_{i}(value)\n")
            files[LOGIN] = insert(files[LOGIN], 20 + 6 * i, f"    login_step_{i}(value)\n")
            h.push(files)
        before = mark(w)
        run(w, capsys)
        states.append(w.outputs()["state"])
        assert w.openai.tokens_billed() <= per_pr  # never, on any push
        assert state_of(w).tokens_total == w.openai.tokens_billed()  # the state's spend is the PR's spend
        if "token budget is spent" in plain(summary_body(w)):
            spent_runs += 1
            assert mark(w) == before  # no model call, not even a probe
    assert states[0] == "complete" and states[-1] == "partial" and spent_runs >= 1
    body = plain(summary_body(w))
    assert "token budget is spent" in body and "raise the Action's budget-tokens-per-pr input" in body
    assert f"of {per_pr:,} tokens spent over all runs" in body


def test_full_review_input_reviews_everything(rr: tuple[World, History], capsys: pytest.CaptureFixture[str]) -> None:
    w, _ = rr
    run(w, capsys)
    start = mark(w)
    w.monkeypatch.setenv("REVIEWBOT_FULL_REVIEW", "true")
    run(w, capsys)
    assert len(sent_hunks(w, start)) == 3
    assert "Full review (a full review was asked for)" in plain(summary_body(w))


def test_the_state_block_is_hidden_and_carries_no_secret(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, _ = rr
    run(w, capsys)
    body = summary_body(w)
    block = body.splitlines()[1]
    assert block.startswith("<!-- reviewbot:state v1 ") and block.endswith(" -->")
    assert "sk-proj" not in json.dumps(state_of(w).to_json())


def test_a_failed_run_keeps_the_earlier_state(rr: tuple[World, History], capsys: pytest.CaptureFixture[str]) -> None:
    w, h = rr
    assert w.openai is not None
    run(w, capsys)
    first = state_of(w)
    files = h.tree()
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    h.push(files)
    w.openai.script(None, "quota")
    assert run(w, capsys) == 4
    assert "The review failed" in plain(summary_body(w))
    assert state_of(w) == first  # still the last complete review, and it still verifies
    w.openai.script(None, "allow")
    files[VIEWS] = insert(files[VIEWS], 20, "    more(value)\n")
    h.push(files)
    start = mark(w)
    run(w, capsys)
    assert len(sent_hunks(w, start)) == 2  # the changes of both pushes since the last reviewed head
    assert f"Reviewed the 2 commits since {first.head_sha[:7]}" in plain(summary_body(w))


def test_a_run_that_fails_after_spending_adds_its_spend(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    assert w.openai is not None
    run(w, capsys)
    files = h.tree()
    files[LOGIN] = insert(files[LOGIN], 20, "    again(value)\n")
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    h.push(files)
    w.openai.script("gpt-5.5", "allow", "quota")  # the general lane's probe passes, its review call hits quota
    assert run(w, capsys) == 4
    st = state_of(w)
    assert st.last_state == "failed" and st.runs == 2
    assert st.tokens_total == w.openai.tokens_billed()  # what the failed run was billed is counted


def test_a_policy_change_on_the_base_branch_triggers_a_full_review(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    w, h = rr
    run(w, capsys)
    policy = default_policy_text().replace("max_output_tokens_per_call: 4000", "max_output_tokens_per_call: 3000")
    w.fake.contents[(h.base, ".github/reviewbot.yml")] = policy.encode()
    files = h.tree()
    files[VIEWS] = insert(files[VIEWS], 50, "    audit(value)\n")
    h.push(files)
    start = mark(w)
    run(w, capsys)
    assert len(sent_hunks(w, start)) == 4
    assert "Full review (the base branch's policy changed since the last review)" in plain(summary_body(w))


def test_a_rerun_on_the_same_head_calls_no_model(rr: tuple[World, History], capsys: pytest.CaptureFixture[str]) -> None:
    w, h = rr
    run(w, capsys)
    start = mark(w)
    assert run(w, capsys) == 1
    assert w.openai is not None and w.openai.bodies()[start:] == []
    assert f"No new commits since {h.head[:7]}: 0 hunks; 3 hunks were reviewed in earlier runs" in plain(
        summary_body(w))


def test_an_escalation_that_failed_is_made_on_the_next_push(
    rr: tuple[World, History], capsys: pytest.CaptureFixture[str]
) -> None:
    # Push 1: the general model escalates the views.py hunk, and the security lane's answer to the
    # escalation is unusable, so the review it owes is not made. Push 2 touches only login.py: the
    # state carries the owed review, and that hunk now goes to the security lane by itself.
    from tests.fakes.openai_server import review_output, wants_escalations
    from tests.test_github_e2e import model_reply

    w, h = rr
    assert w.openai is not None

    def reply(body: dict[str, Any]) -> str:
        if body.get("input") == "ping":
            return "pong"
        hunks = json.loads(body["input"])["hunks"]
        if any("escalation_reason" in x for x in hunks):
            return "not json: the escalated review fails"
        if wants_escalations(body):
            esc = [{"hunk_id": x["hunk_id"], "needed": True, "reason": "logs request data"}
                   for x in hunks if x["path"] == VIEWS]
            return review_output(body, [], esc)
        return model_reply(body)

    w.openai.reply = reply
    run(w, capsys)
    report = json.loads(Path(w.outputs()["report-file"]).read_text(encoding="utf-8"))
    (esc,) = report["escalations"]
    assert esc["path"] == VIEWS and esc["reviewed"] is False and esc["skipped"] == "failed"
    st1 = state_of(w)
    assert len(st1.escalate) == 1

    files = h.tree()
    files[LOGIN] = insert(files[LOGIN], 60, "    audit(value)\n")
    h.push(files, message="push 2")
    start = mark(w)
    w.openai.reply = model_reply
    run(w, capsys)
    owed = [x for body in review_calls(w, start) if body["model"] != "gpt-5.5"
            for x in json.loads(body["input"])["hunks"] if x["path"] == VIEWS]
    assert len(owed) == 1 and owed[0]["lane"] == "security" and "log(value)" in owed[0]["text"]
    report = json.loads(Path(w.outputs()["report-file"]).read_text(encoding="utf-8"))
    (views,) = [x for x in report["hunks"] if x["path"] == VIEWS]
    assert views["lane"] == "security" and views["rule"] == "escalated-earlier"
    assert "escalated earlier go to the security lane" in plain(summary_body(w))
    assert state_of(w).escalate == ()  # made: nothing owed any more
