"""The review publisher and summary end to end: PyGithub against the loopback fake of GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from github import Github

from reviewbot.diff import parse_github_files
from reviewbot.github.client import ClientSettings, make_github, resolve_bot_login
from reviewbot.github.review import MARKER_RE, ReviewPublisher, marker, read_markers
from reviewbot.github.summary import SUMMARY_MARKER, fit, upsert_summary
from reviewbot.models import (
    Confidence,
    Coverage,
    Diff,
    Finding,
    Lane,
    Plan,
    RunResult,
    RunState,
    Severity,
    fingerprint,
)
from reviewbot.redact import Redactor
from reviewbot.report.markdown import render_markdown
from tests.fakes.github_server import FakeGitHub, RunningFake, file_entry, serve

APP_PATCH = (
    "@@ -1,3 +1,5 @@\n"
    " import os\n"
    "+import sqlite3\n"
    '+QUERY = "select " + name\n'
    " def main():\n"
    "     pass\n"
    "@@ -20,2 +22,3 @@\n"
    " x = 1\n"
    "+y = eval(data)\n"
    " z = 3"
)
# What an out-of-date analysis believed: a bigger second hunk than the PR now has.
STALE_PATCH = (
    APP_PATCH.replace("@@ -20,2 +22,3 @@", "@@ -20,12 +22,13 @@")
    + "\n"
    + "\n".join(f" line{i}" for i in range(10))
)
HEAD = "c0ffee" + "0" * 34


def finding(
    line: int,
    start: int | None = None,
    rule: str = "sql-injection",
    path: str = "src/app.py",
    sev: Severity = Severity.HIGH,
) -> Finding:
    return Finding(
        rule=rule,
        severity=sev,
        confidence=Confidence.HIGH,
        path=path,
        start_line=start if start is not None else line,
        end_line=line,
        title=f"{rule} at {line} @admin",
        body="Input <b>reaches</b> the query.",
        source="model:gpt-5.6-cyber",
        fingerprint=fingerprint(rule, path, f"snippet {line}"),
        cwe="CWE-89",
        fix="Parameterise it.",
        lane=Lane.SECURITY,
    )


@dataclass
class Env:
    running: RunningFake
    gh: Github
    sleeps: list[float]

    @property
    def fake(self) -> FakeGitHub:
        return self.running.fake

    def publisher(self, number: int = 7, login: str = "github-actions[bot]", **kw: object) -> ReviewPublisher:
        repo = self.gh.get_repo(self.fake.full_name)
        pull = repo.get_pull(number)
        kw.setdefault("scrub", Redactor().scrub)
        return ReviewPublisher(pull, repo.get_commit(HEAD), bot_login=login, **kw)  # type: ignore[arg-type]


@pytest.fixture
def env() -> Iterator[Env]:
    fake = FakeGitHub()
    fake.add_pull(7, head_sha=HEAD, files=[file_entry("src/app.py", APP_PATCH), file_entry("logo.png", None)])
    running = serve(fake)
    sleeps: list[float] = []
    settings = ClientSettings(
        api_url=running.url,
        token=fake.token,
        retries=3,
        max_wait=30,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    try:
        yield Env(running, make_github(settings, sleep=sleeps.append), sleeps)
    finally:
        running.close()


def diff_of(patch: str = APP_PATCH) -> Diff:
    return parse_github_files([file_entry("src/app.py", patch)])


def result_of(findings: tuple[Finding, ...]) -> RunResult:
    return RunResult(
        findings=findings,
        routes=(),
        plan=Plan((), (), 10_000, "conservative"),
        coverage=Coverage(2, 2, ()),
        state=RunState.COMPLETE,
        model_called=True,
    )


def test_one_comment_review_pinned_to_head_with_only_commentable_lines(env: Env) -> None:
    inside = finding(3, start=2)
    second_hunk = finding(22, start=1, rule="code-injection")  # start clamped to the hunk: single line
    outside = finding(12, rule="xss")  # between hunks: not commentable
    result = env.publisher().publish([inside, second_hunk, outside], diff_of())

    (post,) = env.fake.writes_to("/pulls/7/reviews")
    assert post.status == 200
    assert post.body["event"] == "COMMENT" and post.body["commit_id"] == HEAD
    by_line = {c["line"]: c for c in post.body["comments"]}
    assert set(by_line) == {3, 22}
    assert by_line[3]["start_line"] == 2 and by_line[3]["side"] == "RIGHT"
    assert "start_line" not in by_line[22]
    assert MARKER_RE.search(by_line[3]["body"]).group(1) == inside.fingerprint  # type: ignore[union-attr]
    assert "@admin" not in by_line[3]["body"] and "<b>" not in by_line[3]["body"]
    assert sorted(result.posted) == sorted([inside.fingerprint, second_hunk.fingerprint])
    assert [n.fingerprint for n in result.not_inline] == [outside.fingerprint]
    assert "not part of the diff" in result.not_inline[0].reason


def test_422_is_bisected_and_the_rejected_comment_moves_to_the_summary(env: Env) -> None:
    good = [finding(2, rule="a"), finding(3, rule="b"), finding(23, rule="c")]
    stale = finding(30, rule="d")  # commentable in the stale diff, not in the PR GitHub has
    pub = env.publisher()
    result = pub.publish([*good, stale], diff_of(STALE_PATCH))

    reviews = env.fake.writes_to("/pulls/7/reviews")
    assert [w.status for w in reviews].count(422) >= 2 and result.requests == len(reviews)
    assert sorted(result.posted) == sorted(f.fingerprint for f in good)
    (rejected,) = result.not_inline
    assert rejected.fingerprint == stale.fingerprint
    assert "must be part of the diff" in rejected.reason
    posted_lines = sorted(c.line for c in env.fake.pulls[7].review_comments if c.line is not None)
    assert posted_lines == [2, 3, 23]

    summary = render_markdown(result_of((*good, stale)), not_inline=result.not_inline)
    section = summary.split("### Findings not placed inline", 1)[1]
    assert "`src/app.py` line 30" in section and "must be part of the diff" in section


def test_second_identical_publish_posts_nothing_and_edits_the_summary_in_place(env: Env) -> None:
    findings = [finding(3), finding(23, rule="eval")]
    pub = env.publisher()
    first = pub.publish(findings, diff_of())
    s1 = upsert_summary(pub._pull, "report v1", bot_login="github-actions[bot]")
    writes_before = len(env.fake.writes)

    again = env.publisher()
    second = again.publish(findings, diff_of())
    s2 = upsert_summary(again._pull, "report v2", bot_login="github-actions[bot]")

    assert len(first.posted) == 2 and second.posted == ()
    assert sorted(second.already_posted) == sorted(f.fingerprint for f in findings)
    assert len(env.fake.writes_to("/pulls/7/reviews")) == 1
    new_writes = env.fake.writes[writes_before:]
    assert [(w.method, w.path.rsplit("/", 2)[-2]) for w in new_writes] == [("PATCH", "comments")]
    assert s1.created and not s2.created and s2.edited and s1.comment_id == s2.comment_id
    (comment,) = env.fake.pulls[7].issue_comments
    assert comment.body == f"{SUMMARY_MARKER}\nreport v2"


def test_a_fixed_finding_is_reported_resolved(env: Env) -> None:
    a, b = finding(3), finding(23, rule="eval")
    env.publisher().publish([a, b], diff_of())
    later = env.publisher().publish([a], diff_of())
    assert [r.fingerprint for r in later.resolved] == [b.fingerprint]
    assert later.resolved[0].path == "src/app.py" and later.resolved[0].line == 23


def test_markers_and_summaries_by_other_identities_are_ignored(env: Env) -> None:
    f = finding(3)
    env.fake.add_review_comment(7, "mallory", f"lgtm {marker(f.fingerprint)}", "src/app.py", 3)
    forged = env.fake.add_issue_comment(7, "mallory", f"{SUMMARY_MARKER}\nall clear!")
    pub = env.publisher()
    assert read_markers(pub._pull, "github-actions[bot]") == {}
    result = pub.publish([f], diff_of())
    assert result.posted == (f.fingerprint,)
    s = upsert_summary(pub._pull, "the real report", bot_login="github-actions[bot]")
    assert s.created and s.comment_id != forged.id
    assert forged.body == f"{SUMMARY_MARKER}\nall clear!"
    assert env.fake.writes_to(f"/issues/comments/{forged.id}", "PATCH") == []


def test_read_only_token_loses_nothing(env: Env) -> None:
    env.fake.read_only = True
    fs = [finding(3), finding(23, rule="eval")]
    pub = env.publisher()
    result = pub.publish(fs, diff_of())
    summary = upsert_summary(pub._pull, "report", bot_login="github-actions[bot]")
    assert result.read_only and result.posted == ()
    assert sorted(n.fingerprint for n in result.not_inline) == sorted(f.fingerprint for f in fs)
    assert "cannot post" in result.notices[0]
    assert summary.read_only and summary.comment_id is None
    assert {w.status for w in env.fake.writes} == {403}


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_is_waited_out_with_retry_after(env: Env, status: int) -> None:
    env.fake.rate_limit_next(2, status=status, retry_after=7)
    result = env.publisher().publish([finding(3)], diff_of())
    assert len(result.posted) == 1
    assert env.sleeps == [7, 7]
    assert [w.status for w in env.fake.writes_to("/pulls/7/reviews")] == [200]
    assert len(env.fake.pulls[7].reviews) == 1


def test_rate_limit_retry_is_bounded_and_findings_survive(env: Env) -> None:
    env.fake.rate_limit_next(10, status=429, retry_after=1)
    f = finding(3)
    result = env.publisher().publish([f], diff_of())
    assert result.posted == () and [n.fingerprint for n in result.not_inline] == [f.fingerprint]
    assert "rate limit" in result.notices[0]
    assert len(env.sleeps) == 3  # retries=3, then give up
    assert env.fake.pulls[7].reviews == []


def test_a_wait_longer_than_the_cap_is_not_sat_through(env: Env) -> None:
    env.fake.rate_limit_next(1, status=403, retry_after=3600)
    result = env.publisher().publish([finding(3)], diff_of())
    assert result.posted == () and env.sleeps == []
    assert "rate limit" in result.notices[0]


def test_a_5xx_after_the_review_landed_does_not_post_it_twice(env: Env) -> None:
    env.fake.fail_after_apply.append(502)
    f = finding(3)
    result = env.publisher().publish([f], diff_of())
    assert result.posted == (f.fingerprint,)
    assert len(env.fake.pulls[7].reviews) == 1
    assert len(env.fake.writes_to("/pulls/7/reviews")) == 1  # the transport never repeated the POST


def test_summary_5xx_then_found_is_edited_not_duplicated(env: Env) -> None:
    env.fake.fail_after_apply.append(500)
    pull = env.gh.get_repo(env.fake.full_name).get_pull(7)
    s = upsert_summary(pull, "report", bot_login="github-actions[bot]")
    assert s.comment_id is not None
    assert len(env.fake.pulls[7].issue_comments) == 1


def test_summary_body_is_capped_with_a_note() -> None:
    body, cut = fit("line\n" * 30_000, limit=10_000)
    assert cut and len(body) <= 10_000 and body.startswith(SUMMARY_MARKER)
    assert "cut at GitHub's comment size limit" in body


def test_identity_installation_token_user_token_and_configured(env: Env) -> None:
    ident = resolve_bot_login(env.gh)
    assert (ident.login, ident.how) == ("github-actions[bot]", "graphql-viewer")
    assert resolve_bot_login(env.gh, configured=" my-app[bot] ").login == "my-app[bot]"
    assert ("GET", "/user") not in env.fake.requests  # GraphQL answered first


def test_pull_from_fixture_shapes_parses(env: Env) -> None:
    from tests.fakes.github_server import require_fixture

    require_fixture("pull")
    pull = env.gh.get_repo(env.fake.full_name).get_pull(7)
    assert pull.head.sha == HEAD and pull.number == 7 and pull.user.login == "contributor"
    files = list(pull.get_files())
    assert [f.filename for f in files] == ["src/app.py", "logo.png"] and files[1].patch is None


def test_unused_replace_guard() -> None:
    # dataclasses.replace keeps fingerprints: placement decisions never depend on identity.
    f = finding(3)
    assert replace(f, title="x").fingerprint == f.fingerprint


def test_an_earlier_finding_in_a_hunk_not_reviewed_again_is_not_resolved(env: Env) -> None:
    # A re-run that could not review the hunk (over budget, failed) reports nothing there: that
    # proves nothing, so the earlier comment is neither reposted nor called resolved.
    a, b = finding(3), finding(23, rule="eval")
    env.publisher().publish([a, b], diff_of())
    (hunk,) = [h for h in diff_of().hunks if 23 in h.commentable]
    unreviewed = env.publisher().publish([], diff_of(), reviewed=())
    assert unreviewed.resolved == () and unreviewed.posted == ()
    rechecked = env.publisher().publish([a], diff_of(), reviewed=(hunk.id,))
    assert [r.fingerprint for r in rechecked.resolved] == [b.fingerprint]
