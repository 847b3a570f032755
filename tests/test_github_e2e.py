"""`reviewbot github` end to end, in process, against the loopback fakes of GitHub and OpenAI.

Each test runs ``reviewbot.cli.main(["github", ...])`` with the environment a workflow
gives (GITHUB_* variables, an event file, RUNNER_TEMP) pointing at the fakes, and then
asserts on what the fake GitHub received, the job summary, ``$GITHUB_OUTPUT`` and the
artifacts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewbot.audit import verify
from reviewbot.cli import main
from reviewbot.github import run as run_mod
from reviewbot.github.client import ClientSettings
from reviewbot.github.review import MARKER_RE
from reviewbot.github.summary import SUMMARY_MARKER
from tests.fakes.github_server import FakeGitHub, PullState, RunningFake, file_entry, serve
from tests.fakes.openai_server import FakeOpenAI, review_output, running_fake

KEY = "sk-proj-e2e-0123456789abcdef"
SECRET = "ghp_" + "Zq8xW3vN5mK2pL7rT9yB4cD6fG1hJ0sA3eU5"
BASE = "b" * 40
HEAD1 = "1" * 40
HEAD2 = "2" * 40

LOGIN_PATCH = (
    "@@ -1,4 +1,6 @@\n"
    " import db\n"
    " def login(name, password):\n"
    "+    q = \"SELECT * FROM users WHERE name = '\" + name + \"'\"\n"
    "+    row = db.query(q)\n"
    "     return check(row, password)\n"
    " \n"
    "@@ -20,3 +22,4 @@\n"
    " def restore(data):\n"
    "+    state = eval(data)\n"
    "     return state\n"
    " # end"
)
LOGIN_PATCH_FIXED = LOGIN_PATCH.replace("+    state = eval(data)\n", "+    state = json.loads(data)\n")
README_PATCH = "@@ -1 +1,2 @@\n # demo\n+More words.\n"

_ENV_NAMES = (
    "GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_EVENT_NAME", "GITHUB_WORKSPACE", "GITHUB_ACTIONS",
    "RUNNER_TEMP", "GITHUB_SERVER_URL", "REVIEWBOT_POLICY", "REVIEWBOT_FAIL_ON", "REVIEWBOT_FAIL_ON_INCOMPLETE",
    "REVIEWBOT_BUDGET_TOKENS", "REVIEWBOT_BUDGET_TOKENS_PER_PR", "REVIEWBOT_FULL_REVIEW", "REVIEWBOT_PR_NUMBER",
    "REVIEWBOT_BOT_LOGIN", "REVIEWBOT_TOKENIZER",
)


def model_reply(body: dict[str, Any]) -> str:
    """The fake model: a finding for each SQL concatenation and each eval() in the hunks it is sent."""
    if body.get("input") == "ping":
        return "pong"
    findings = []
    for hunk in json.loads(body["input"])["hunks"]:
        text = hunk["text"]
        if "SELECT * FROM users" in text:
            findings.append(_finding(hunk["hunk_id"], "SQL Injection", "CWE-89", "high",
                                     "SQL built from the login name",
                                     "q = \"SELECT * FROM users WHERE name = '\" + name + \"'\""))
        if "eval(data)" in text:
            findings.append(_finding(hunk["hunk_id"], "Code Injection", "CWE-95", "medium",
                                     "eval() of request data @admin <img src=https://evil.example/x.png>",
                                     "state = eval(data)"))
    return review_output(body, findings)


def _finding(hunk_id: str, category: str, cwe: str, severity: str, title: str, quote: str) -> dict[str, Any]:
    return {
        "hunk_id": hunk_id, "category": category, "cwe": cwe, "severity": severity, "confidence": "high",
        "title": title, "explanation": "Untrusted input reaches a dangerous sink.", "source": "name",
        "sink": "db.query", "quote": quote, "fix": "Use a bound parameter.",
    }


@dataclass
class World:
    gh: RunningFake
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    openai: FakeOpenAI | None = None

    @property
    def fake(self) -> FakeGitHub:
        return self.gh.fake

    @property
    def summary_path(self) -> Path:
        return self.tmp / "step_summary.md"

    @property
    def output_path(self) -> Path:
        return self.tmp / "github_output"

    def pull(self, number: int = 7) -> PullState:
        return self.fake.pulls[number]

    def event(self, name: str = "pull_request", number: int = 7, payload: dict[str, Any] | None = None) -> None:
        if payload is None:
            payload = {"action": "synchronize", "number": number,
                       "pull_request": self.fake.pull_json(self.pull(number))}
        path = self.tmp / "event.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        self.monkeypatch.setenv("GITHUB_EVENT_NAME", name)
        self.monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))

    def run(self, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        for path in (self.summary_path, self.output_path):
            path.write_text("", encoding="utf-8")
        code = main(["github", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    def outputs(self) -> dict[str, str]:
        text = self.output_path.read_text(encoding="utf-8")
        return {m[0]: m[2] for m in re.findall(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.S | re.M)}

    def step_summary(self) -> str:
        return plain(self.summary_path.read_text(encoding="utf-8"))

    def posted(self) -> str:
        """Everything any write to the fake GitHub carried."""
        return json.dumps([w.body for w in self.fake.writes])


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    fake = FakeGitHub()
    fake.add_pull(7, head_sha=HEAD1, base_sha=BASE, author="alice",
                  files=[file_entry("src/auth/login.py", LOGIN_PATCH), file_entry("README.md", README_PATCH)])
    running = serve(fake)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    monkeypatch.setattr(
        run_mod, "client_settings",
        lambda ctx: ClientSettings(api_url=ctx.api_url, token=ctx.token or "", retries=1, max_wait=5,
                                   seconds_between_requests=0, seconds_between_writes=0),
    )
    monkeypatch.setenv("REVIEWBOT_TOKENIZER", "conservative")
    for name, value in {
        "GITHUB_REPOSITORY": fake.full_name, "GITHUB_API_URL": running.url, "GITHUB_TOKEN": fake.token,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"), "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "RUNNER_TEMP": str(tmp_path / "runner_temp"), "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTIONS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    w = World(running, tmp_path, monkeypatch)
    w.event()
    try:
        yield w
    finally:
        running.close()


@pytest.fixture
def keyed(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from reviewbot import tokens

    tokens.reset_cache()
    with running_fake(keys={KEY: "main"}, reply=model_reply) as openai:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", openai.base_url)
        world.openai = openai
        yield world
        assert not openai.schema_errors
    tokens.reset_cache()


def plain(markdown: str) -> str:
    """Markdown with its backslash escapes removed, for reading what a person sees."""
    return re.sub(r"\\(.)", r"\1", markdown)


def review_posts(w: World) -> list[Any]:
    return [wr for wr in w.fake.writes_to("/pulls/7/reviews") if wr.status < 300]


# ----------------------------------------------------------------------------- with a model


def test_first_run_posts_one_comment_review_and_the_summary(keyed: World, capsys: pytest.CaptureFixture[str]) -> None:
    w = keyed
    code, out, err = w.run(capsys=capsys)

    assert code == 1  # a HIGH finding reaches the default fail-on (high)
    (review,) = review_posts(w)
    assert review.body["event"] == "COMMENT" and review.body["commit_id"] == HEAD1
    lines = sorted(c["line"] for c in review.body["comments"])
    assert lines == [3, 23]
    sql = next(c for c in review.body["comments"] if c["line"] == 3)
    assert "CWE\\-89" in sql["body"] and "gpt\\-5\\.5\\-cyber\\-preview" in sql["body"]
    assert MARKER_RE.search(sql["body"])
    evil = next(c for c in review.body["comments"] if c["line"] == 23)
    assert "@admin" not in evil["body"] and "<img" not in evil["body"] and "evil.example" not in evil["body"]

    (summary,) = w.pull().issue_comments
    assert summary.body.startswith(SUMMARY_MARKER)
    assert "2 findings (1 high, 1 medium)" in summary.body and "### Coverage" in summary.body
    assert "### Models" in summary.body and "### Budget" in summary.body

    outputs = w.outputs()
    assert outputs["findings"] == "2" and outputs["highest-severity"] == "high" and outputs["state"] == "complete"
    sarif = json.loads(Path(outputs["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 2
    report = json.loads(Path(outputs["report-file"]).read_text())
    assert report["state"] == "complete" and report["head_sha"] == HEAD1
    audit = Path(outputs["audit-file"])
    assert verify(audit).ok
    events = [json.loads(line)["event"] for line in audit.read_text().splitlines()]
    assert events[0] == "run_start" and events[-2:] == ["publish", "run_end"]  # the end comes last

    step = w.step_summary()
    assert "reviewbot security review" in step and "2 findings" in step
    assert re.search(r"^::error file=src/auth/login.py,line=3,", out, re.M)
    assert re.search(r"^::warning file=src/auth/login.py,line=23,", out, re.M)
    assert "Traceback" not in err
    # the model never saw the README (a skip route), and the policy came from the default
    sent = json.dumps(w.openai.bodies() if w.openai else [])
    assert "More words." not in sent


def test_second_identical_run_posts_nothing_new_and_edits_the_summary(
    keyed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w = keyed
    w.run(capsys=capsys)
    first_id = w.pull().issue_comments[0].id
    writes_before = len(w.fake.writes)

    code, _, _ = w.run(capsys=capsys)

    assert code == 1
    assert len(review_posts(w)) == 1  # nothing new: every fingerprint is already posted
    new = w.fake.writes[writes_before:]
    # the summary is edited in place (here its text is unchanged, so not even a PATCH is needed)
    assert all(x.method == "PATCH" and x.path.endswith(f"/issues/comments/{first_id}") for x in new)
    assert [c.id for c in w.pull().issue_comments] == [first_id]
    assert w.outputs()["findings"] == "2"


def test_a_push_that_fixes_one_finding_marks_it_resolved(keyed: World, capsys: pytest.CaptureFixture[str]) -> None:
    w = keyed
    w.run(capsys=capsys)
    pr = w.pull()
    pr.head_sha = HEAD2
    pr.files = [file_entry("src/auth/login.py", LOGIN_PATCH_FIXED), file_entry("README.md", README_PATCH)]
    w.event()

    code, _, _ = w.run(capsys=capsys)

    assert code == 1  # the SQL injection is still there
    assert len(review_posts(w)) == 1
    body = plain(pr.issue_comments[0].body)
    resolved = body.split("### Resolved since an earlier run", 1)[1]
    assert "`src/auth/login.py` line 23" in resolved and "resolved" in resolved
    assert "1 finding (1 high)" in body
    assert w.outputs()["findings"] == "1"


def test_read_only_token_ends_with_everything_in_the_job_summary(
    keyed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w = keyed
    w.fake.read_only = True

    code, _, err = w.run(capsys=capsys)

    assert code == 1
    assert w.fake.writes and all(x.status == 403 for x in w.fake.writes)
    assert w.pull().issue_comments == [] and w.pull().review_comments == []
    step = w.step_summary()
    assert "cannot write to this pull request" in step and "pull-requests: write" in step
    assert "SQL built from the login name" in step and "### Findings" in step
    outputs = w.outputs()
    assert outputs["state"] == "complete" and Path(outputs["audit-file"]).is_file()
    assert "Traceback" not in err


def test_a_pr_weakening_its_own_policy_is_reviewed_with_the_base_policy(
    keyed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w = keyed
    pr = w.pull()
    strict = "version: 1\nroutes:\n  - {name: auth, lane: security, paths: ['src/auth/**']}\n"
    weak = "version: 1\nexclude: ['**']\nfail_on: {severity: none}\n"
    w.fake.contents[(BASE, ".github/reviewbot.yml")] = strict.encode()
    w.fake.contents[(HEAD1, ".github/reviewbot.yml")] = weak.encode()
    weakening = "@@ -1,2 +1,2 @@\n version: 1\n-routes: []\n+exclude: ['**']\n"
    pr.files.append(file_entry(".github/reviewbot.yml", weakening))
    w.event()

    code, _, _ = w.run(capsys=capsys)

    assert code == 1  # the base policy's fail_on (default high) held, not the PR's "none"
    body = plain(pr.issue_comments[0].body)
    assert "changes .github/reviewbot.yml" in body and f"base branch ({BASE[:12]})" in body
    assert "2 findings" in body  # not excluded: the PR's `exclude: ['**']` was not applied
    report = json.loads(Path(w.outputs()["report-file"]).read_text())
    assert report["policy"]["source"] == f".github/reviewbot.yml@{BASE[:12]}"
    routes = {h["path"]: h["rule"] for h in report["hunks"]}
    assert routes["src/auth/login.py"] == "auth"  # the base policy's own route name
    assert routes[".github/reviewbot.yml"] == "default"  # the shipped policy would say ci-workflows


# ----------------------------------------------------------------------------- without a model


def test_fork_pull_request_posts_nothing_and_writes_the_skipped_summary(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    w.pull().head_repo = "mallory/demo"
    w.event()

    code, _, err = w.run(capsys=capsys)

    assert code == 0
    assert w.fake.writes == []
    step = w.step_summary()
    assert "Nothing was reviewed: the review was skipped." in step
    assert "comes from a fork (mallory/demo)" in step and "pull_request_target" in step
    assert w.outputs()["state"] == "skipped" and w.outputs()["findings"] == "0"
    assert "Traceback" not in err


def test_no_key_posts_a_local_secret_finding_without_the_value(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    patch = f'@@ -1,2 +1,3 @@\n import os\n+API_TOKEN = "{SECRET}"\n def main(): pass\n'
    w.pull().files = [file_entry("src/settings_local.py", patch)]
    w.event()

    code, out, err = w.run(capsys=capsys)

    assert code == 1  # a committed secret is a HIGH finding
    (review,) = review_posts(w)
    (comment,) = review.body["comments"]
    assert comment["path"] == "src/settings_local.py" and comment["line"] == 2
    assert "local:secrets" in plain(comment["body"])
    summary = plain(w.pull().issue_comments[0].body)
    assert "No OpenAI API key was given" in summary and "skipped" in summary
    assert w.outputs()["state"] == "skipped"
    leaks = [w.posted(), w.step_summary(), w.output_path.read_text(), out, err]
    leaks += [p.read_text() for p in (w.tmp / "runner_temp" / "reviewbot").iterdir()]
    assert not [text for text in leaks if SECRET in text or SECRET[4:20] in text]


def test_no_key_with_fail_on_incomplete_exits_3(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.monkeypatch.setenv("REVIEWBOT_FAIL_ON_INCOMPLETE", "true")
    code, _, _ = world.run(capsys=capsys)
    assert code == 3 and world.outputs()["state"] == "skipped"


def test_workflow_dispatch_no_post_prints_the_summary_inside_stop_commands(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    w.pull().title = "::set-output name=x::y"
    w.event("workflow_dispatch", payload={"inputs": {"pr": "7"}})

    code, out, _ = w.run("--no-post", capsys=capsys)

    assert code == 0 and w.fake.writes == []
    m = re.search(r"^::stop-commands::(\w+)\n(.*)\n::\1::$", out, re.S | re.M)
    assert m and "## reviewbot security review" in m.group(2)
    assert "Nothing was posted to the pull request (--no-post)" in plain(m.group(2))


def test_local_repo_and_pr_flags_without_an_event(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    w = world
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_ACTIONS"):
        w.monkeypatch.delenv(name, raising=False)
    code, out, _ = w.run("--repo", "octo/demo", "--pr", "7", "--no-post", capsys=capsys)
    assert code == 0 and "::stop-commands::" not in out and "## reviewbot security review" in out


# ----------------------------------------------------------------------------- errors


def test_bad_token_is_one_line_exit_4_and_state_failed(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong")
    code, _, err = world.run(capsys=capsys)
    assert code == 4
    assert err.strip().splitlines()[-2].startswith("error: GitHub refused the token (401)")
    assert "Traceback" not in err
    assert world.outputs()["state"] == "failed" and world.outputs()["findings"] == "0"
    assert "The review failed" in world.step_summary()


def test_invalid_base_policy_fails_with_its_line_and_posts_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.contents[(BASE, ".github/reviewbot.yml")] = b"version: 1\nroutse: []\n"
    code, _, err = world.run(capsys=capsys)
    assert code == 2
    assert "error: .github/reviewbot.yml@bbbbbbbbbbbb:2" in err and "Traceback" not in err
    assert world.fake.writes == [] and world.outputs()["state"] == "failed"


def test_bad_action_input_names_the_input(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.monkeypatch.setenv("REVIEWBOT_BUDGET_TOKENS", "lots")
    code, _, err = world.run(capsys=capsys)
    assert code == 2 and "input budget-tokens" in err and "Traceback" not in err


def test_unreachable_github_is_one_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9/api/v3")
    code, _, err = world.run(capsys=capsys)
    assert code == 2 and "cannot reach GitHub" in err and "Traceback" not in err
    assert world.outputs()["state"] == "failed"
