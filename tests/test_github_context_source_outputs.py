"""Actions context, PR source (all pages, base-branch policy) and workflow outputs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Github

from reviewbot.github.client import ClientSettings, make_github
from reviewbot.github.context import ContextError, load_context
from reviewbot.github.outputs import (
    annotation_lines,
    append_step_summary,
    escape_property,
    fit_step_summary,
    format_outputs,
    stop_commands,
)
from reviewbot.github.source import POLICY_PATH, fetch_pull
from reviewbot.models import Confidence, Finding, Severity
from tests.fakes.github_server import FakeGitHub, RunningFake, file_entry, serve

PATCH = "@@ -1,2 +1,3 @@\n a\n+b\n c"


def _event(tmp_path: Path, payload: dict[str, object]) -> Path:
    p = tmp_path / "event.json"
    p.write_text(json.dumps(payload))
    return p


def _pull_event(number: int, head_repo: str | None, base_repo: str = "octo/demo") -> dict[str, object]:
    return {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": "h" * 40, "repo": {"full_name": head_repo} if head_repo else None},
            "base": {"sha": "b" * 40, "repo": {"full_name": base_repo}},
        },
    }


def test_pull_request_event_same_repo(tmp_path: Path) -> None:
    env = {
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_TOKEN": "t",
        "GITHUB_EVENT_PATH": str(_event(tmp_path, _pull_event(5, "octo/demo"))),
        "GITHUB_API_URL": "",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md"),
        "GITHUB_OUTPUT": "",
        "RUNNER_TEMP": str(tmp_path),
    }
    ctx = load_context(env)
    assert (ctx.pr_number, ctx.is_fork, ctx.head_sha) == (5, False, "h" * 40)
    assert ctx.api_url == "https://api.github.com"  # empty counts as unset
    assert ctx.output is None and ctx.step_summary == tmp_path / "s.md"


@pytest.mark.parametrize("head", ["fork/demo", None])
def test_fork_and_deleted_head_repo_are_forks(tmp_path: Path, head: str | None) -> None:
    env = {
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_NAME": "pull_request_target",
        "GITHUB_EVENT_PATH": str(_event(tmp_path, _pull_event(9, head))),
    }
    assert load_context(env).is_fork is True


def test_workflow_dispatch_takes_the_pr_input(tmp_path: Path) -> None:
    env = {
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_API_URL": "https://ghe.example/api/v3/",
        "GITHUB_EVENT_PATH": str(_event(tmp_path, {"inputs": {"pr": " 12 "}})),
    }
    ctx = load_context(env)
    assert ctx.pr_number == 12 and ctx.is_fork is None and ctx.head_sha is None
    assert ctx.api_url == "https://ghe.example/api/v3"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_EVENT_NAME": "push"}, "GITHUB_REPOSITORY"),
        ({"GITHUB_REPOSITORY": "octo/demo", "GITHUB_EVENT_NAME": "push"}, "not supported"),
        (
            {"GITHUB_REPOSITORY": "octo/demo", "GITHUB_EVENT_NAME": "workflow_dispatch"},
            "no pull request number",
        ),
    ],
)
def test_context_errors_are_one_line_with_a_hint(env: dict[str, str], message: str) -> None:
    with pytest.raises(ContextError) as err:
        load_context(env)
    assert message in err.value.message and err.value.hint


def test_bad_dispatch_input(tmp_path: Path) -> None:
    env = {
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(_event(tmp_path, {"inputs": {"pr": "12; rm -rf /"}})),
    }
    with pytest.raises(ContextError, match="not a pull request number"):
        load_context(env)


@pytest.fixture
def served() -> Iterator[tuple[RunningFake, Github]]:
    fake = FakeGitHub()
    running = serve(fake)
    gh = make_github(
        ClientSettings(
            api_url=running.url,
            token=fake.token,
            per_page=100,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )
    )
    try:
        yield running, gh
    finally:
        running.close()


def test_all_pages_of_files_and_base_branch_policy(served: tuple[RunningFake, Github]) -> None:
    running, gh = served
    fake = running.fake
    files = [file_entry(f"src/f{i:03}.py", PATCH) for i in range(250)] + [file_entry("big.bin", None)]
    files.append(file_entry(POLICY_PATH, "@@ -1 +1 @@\n-version: 1\n+version: 2"))
    pr = fake.add_pull(3, files=files)
    fake.contents[(pr.base_sha, POLICY_PATH)] = b"version: 1\n"
    fake.contents[(pr.head_sha, POLICY_PATH)] = b"version: 1\nexclude: ['**']\n"
    seen: list[int] = []

    def parse(entries: object) -> object:
        listed = list(entries)  # type: ignore[call-overload]
        seen.append(len(listed))
        from reviewbot.diff import parse_github_files

        return parse_github_files(listed)

    src = fetch_pull(gh.get_repo(fake.full_name), 3, parse=parse)  # type: ignore[arg-type]
    assert seen == [252] and src.files_listed == 252 and not src.files_truncated
    page_gets = [p for m, p in fake.requests if p.endswith("/pulls/3/files")]
    assert len(page_gets) == 3  # 100 + 100 + 52, following Link headers
    assert src.policy.text == "version: 1\n" and src.policy.changed_by_pr
    assert src.info.head_sha == pr.head_sha and not src.info.is_fork
    assert any(s.path == "big.bin" for s in src.diff.skipped)
    assert all(m == "GET" for m, _ in fake.requests)


def test_missing_policy_and_file_cap(served: tuple[RunningFake, Github]) -> None:
    running, gh = served
    fake = running.fake
    fake.max_files = 120
    fake.add_pull(4, files=[file_entry(f"f{i}.py", PATCH) for i in range(130)])
    src = fetch_pull(gh.get_repo(fake.full_name), 4)
    assert src.policy.text is None and not src.policy.changed_by_pr
    assert src.files_listed == 120 and src.files_truncated


def test_outputs_use_unforgeable_heredoc_delimiters() -> None:
    text = format_outputs({"state": "complete", "findings": "2\nstate<<x\nfailed\nx"})
    blocks = re.findall(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.S | re.M)
    assert [(n, v) for n, _, v in blocks] == [("findings", "2\nstate<<x\nfailed\nx"), ("state", "complete")]
    assert len({d for _, d, _ in blocks}) == 2


def test_step_summary_stays_under_one_mib(tmp_path: Path) -> None:
    text, cut = fit_step_summary("é line\n" * 200_000)
    assert cut and len(text.encode()) < 1024 * 1024 and "cut at GitHub's 1 MiB limit" in text
    path = tmp_path / "summary.md"
    path.write_text("x" * 1_000_000)
    assert append_step_summary(path, "y\n" * 50_000)
    assert path.stat().st_size < 1024 * 1024


def _f(i: int, sev: Severity, path: str = "a.py") -> Finding:
    return Finding(
        rule="r",
        severity=sev,
        confidence=Confidence.LOW,
        path=path,
        start_line=i,
        end_line=i,
        title=f"t{i}",
        body="",
        source="s",
        fingerprint=f"{i:032x}",
    )


def test_annotations_escaped_and_capped_per_level() -> None:
    evil = _f(1, Severity.CRITICAL, path="a,b:c%\n::error::x.py")
    evil = Finding(**{**evil.__dict__, "title": "boom\r\n::set-output name=x::1 100%"})
    lines = annotation_lines([evil, *(_f(i, Severity.HIGH) for i in range(2, 30)), _f(40, Severity.MEDIUM)])
    errors = [ln for ln in lines if ln.startswith("::error ")]
    assert len(errors) == 10 and sum(ln.startswith("::warning ") for ln in lines) == 1
    first = lines[0]
    assert "file=a%2Cb%3Ac%25%0A%3A%3Aerror%3A%3Ax.py," in first
    assert first.endswith("::boom%0A::set-output name=x::1 100%25 (low confidence)")
    assert all("\n" not in ln and "\r" not in ln for ln in lines)
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_stop_commands_token_not_in_text() -> None:
    wrapped = stop_commands("::error::pwned\nabc", token="abc")
    start, *_, end = wrapped.split("\n")
    token = start.removeprefix("::stop-commands::")
    assert token != "abc" and end == f"::{token}::" and token not in "::error::pwned\nabc"
