"""The parts of one Action run: inputs from the environment, the budget, the base policy, no-patch files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reviewbot.diff import parse_github_files
from reviewbot.errors import PolicyError
from reviewbot.github.checkout import NO_CHECKOUT, fill_from_checkout
from reviewbot.github.run import (
    ActionInputError,
    GithubOptions,
    artifacts_for,
    budget_for,
    load_base_policy,
    options_from_env,
)
from reviewbot.github.source import PolicySource, PullInfo, PullSource
from reviewbot.github.state import LoadedState, ReviewState
from reviewbot.models import Diff, Severity, SkipReason
from reviewbot.policy import parse_policy
from tests.fakes.github_server import file_entry

# ----------------------------------------------------------------------------- inputs


def test_action_inputs_from_the_environment() -> None:
    env = {
        "REVIEWBOT_FAIL_ON": "medium", "REVIEWBOT_FAIL_ON_INCOMPLETE": "true", "REVIEWBOT_BUDGET_TOKENS": "5000",
        "REVIEWBOT_BUDGET_TOKENS_PER_PR": "9000", "REVIEWBOT_FULL_REVIEW": "false", "REVIEWBOT_PR_NUMBER": "#12",
        "REVIEWBOT_POLICY": "ci/reviewbot.yml",
    }
    opts = options_from_env(env)
    assert opts.fail_on is Severity.MEDIUM and opts.fail_on_given
    assert opts.fail_on_incomplete is True and opts.budget_tokens == 5000 and opts.budget_tokens_per_pr == 9000
    assert opts.pr == 12 and not opts.full and opts.policy_path == "ci/reviewbot.yml"


def test_empty_inputs_are_unset_and_leave_the_policy_in_charge() -> None:
    opts = options_from_env({k: "" for k in ("REVIEWBOT_FAIL_ON", "REVIEWBOT_FAIL_ON_INCOMPLETE",
                                             "REVIEWBOT_BUDGET_TOKENS", "REVIEWBOT_PR_NUMBER")})
    assert opts == GithubOptions()


def test_command_line_wins_over_inputs_and_none_is_a_real_choice() -> None:
    opts = options_from_env({"REVIEWBOT_FAIL_ON": "low", "REVIEWBOT_BUDGET_TOKENS": "10"},
                            fail_on=None, fail_on_given=True, budget_tokens=99, pr=3)
    assert opts.fail_on is None and opts.fail_on_given and opts.budget_tokens == 99 and opts.pr == 3


@pytest.mark.parametrize(
    ("name", "value", "input_name"),
    [
        ("REVIEWBOT_BUDGET_TOKENS", "-5", "budget-tokens"),
        ("REVIEWBOT_BUDGET_TOKENS_PER_PR", "1e6", "budget-tokens-per-pr"),
        ("REVIEWBOT_FAIL_ON", "severe", "fail-on"),
        ("REVIEWBOT_FAIL_ON_INCOMPLETE", "maybe", "fail-on-incomplete"),
        ("REVIEWBOT_PR_NUMBER", "12; rm -rf /", "pr-number"),
    ],
)
def test_a_bad_input_is_a_usage_error_naming_the_input(name: str, value: str, input_name: str) -> None:
    with pytest.raises(ActionInputError) as err:
        options_from_env({name: value})
    assert f"input {input_name}" in err.value.message and err.value.hint and err.value.exit_code == 2


def test_budget_is_the_smaller_of_run_and_pr_caps() -> None:
    policy = parse_policy("version: 1\nbudget: {tokens_per_run: 1000, tokens_per_pr: 5000}\n", source="t")
    assert budget_for(policy, GithubOptions()).tokens == 1000
    assert budget_for(policy, GithubOptions(budget_tokens=8000)).tokens == 5000
    assert budget_for(policy, GithubOptions(budget_tokens=8000, budget_tokens_per_pr=20000)).tokens == 8000


def _state(spent: int, verified: bool = True) -> ReviewState:
    return ReviewState("octo/demo", 7, "1" * 40, "d", 2, (("security", spent),), 0.0, (), (), (), (),
                       spend_verified=verified)


@pytest.mark.parametrize(
    ("loaded", "tokens", "verified", "pr_spent"),
    [
        # the PR remainder, not the PR cap: 5000 - 4600 = 400 left, below the per-run 1000
        (LoadedState(_state(4600), "ok", True), 400, True, False),
        (LoadedState(_state(1000), "ok", True), 1000, True, False),
        (LoadedState(_state(4950), "ok", True), 50, True, True),  # 50 left cannot pay for one call (100)
        (LoadedState(_state(5000), "ok", True), 0, True, True),
        (LoadedState(_state(7000), "ok", True), 0, True, True),
        # the bot ran before but its block does not verify: capped at the per-run budget, total unknown
        (LoadedState(None, "bad signature", True), 1000, False, False),
        (LoadedState(None, "no earlier review state", False), 1000, True, False),
        # an earlier gap in what could be verified stays visible
        (LoadedState(_state(100, verified=False), "ok", True), 1000, False, False),
    ],
)
def test_a_run_spends_at_most_the_smaller_remainder(
    loaded: LoadedState, tokens: int, verified: bool, pr_spent: bool
) -> None:
    policy = parse_policy(
        "version: 1\nbudget: {tokens_per_run: 1000, tokens_per_pr: 5000, max_output_tokens_per_call: 100}\n",
        source="t",
    )
    budget = budget_for(policy, GithubOptions(), loaded)
    assert (budget.tokens, budget.verified, budget.pr_spent) == (tokens, verified, pr_spent)
    if not verified:
        assert "could not be verified" in " ".join(budget.lines(0))


def test_artifacts_go_under_runner_temp(tmp_path: Path) -> None:
    art = artifacts_for({"RUNNER_TEMP": str(tmp_path)}, None)
    assert art.directory == tmp_path / "reviewbot" and art.directory.is_dir()
    assert {art.sarif.name, art.report.name, art.audit.name} == {
        "reviewbot.sarif", "reviewbot-report.json", "reviewbot-audit.jsonl"}


# ----------------------------------------------------------------------------- base policy


def _source(text: str | None, changed: bool = False, path: str = ".github/reviewbot.yml") -> PullSource:
    info = PullInfo(1, "t", "b", "alice", "h" * 40, "a" * 40, "o/r", "o/r", False, 1)
    return PullSource(info, Diff(()), 1, False, PolicySource(path, "a" * 40, text, changed))


def test_base_policy_applies_overrides_and_reports_a_change_by_the_pr() -> None:
    policy, notices = load_base_policy(_source("version: 1\n", changed=True), GithubOptions(),
                                       {"SECURITY_PATHS": "src/**"})
    assert policy.source == ".github/reviewbot.yml@aaaaaaaaaaaa"
    assert policy.routes[0].name == "SECURITY_PATHS"
    (notice,) = notices
    assert "changes .github/reviewbot.yml" in notice and "base branch (aaaaaaaaaaaa)" in notice


def test_no_policy_on_the_base_branch_is_the_shipped_default_unless_one_was_named() -> None:
    policy, notices = load_base_policy(_source(None), GithubOptions(), {})
    assert policy.source == "<default>" and notices == []
    with pytest.raises(PolicyError, match="no such file on the base branch"):
        load_base_policy(_source(None, path="ci/policy.yml"), GithubOptions(policy_path="ci/policy.yml"), {})


# ----------------------------------------------------------------------------- no-patch files


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "big.py").write_text("".join(f"x{i} = {i}\n" for i in range(50)))
    (repo / ":(glob)*").write_text("a\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "big.py").write_text("".join(f"x{i} = {i}\n" for i in range(50)) + "token = eval(data)\n")
    (repo / ":(glob)*").write_text("b\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head")
    head = git(repo, "rev-parse", "HEAD")
    return repo, base, head


def test_files_without_a_patch_come_from_the_checkout(checkout: tuple[Path, str, str]) -> None:
    repo, base, head = checkout
    diff = parse_github_files([
        file_entry("big.py", None), file_entry("logo.png", None, status="added"),
        file_entry("small.py", "@@ -1 +1 @@\n-a\n+b\n"),
    ])
    filled = fill_from_checkout(diff, repo, base, head)
    assert filled.filled == ("big.py",)
    hunk = next(h for h in filled.diff.hunks if h.path == "big.py")
    assert any(ln.text == "token = eval(data)" for ln in hunk.lines)
    reasons = {s.path: s.reason for s in filled.diff.skipped}
    assert reasons == {"logo.png": SkipReason.BINARY}
    assert {h.path for h in filled.diff.hunks} == {"big.py", "small.py"}


def test_a_path_is_never_read_as_a_pathspec_pattern(checkout: tuple[Path, str, str]) -> None:
    repo, base, head = checkout
    diff = parse_github_files([file_entry(":(glob)*", None)])
    filled = fill_from_checkout(diff, repo, base, head)
    # literal: only the file of that name, not every file the pattern would match
    (hunk,) = filled.diff.hunks
    assert hunk.path == ":(glob)*" and [(ln.kind, ln.text) for ln in hunk.lines] == [("-", "a"), ("+", "b")]


def test_without_both_commits_the_file_stays_skipped_with_the_reason(
    checkout: tuple[Path, str, str], tmp_path: Path
) -> None:
    repo, base, _ = checkout
    diff = parse_github_files([file_entry("big.py", None)])
    for workspace, head in ((repo, "f" * 40), (tmp_path / "empty", "f" * 40), (None, base)):
        if workspace is not None:
            workspace.mkdir(exist_ok=True)
        filled = fill_from_checkout(diff, workspace, base, head)
        (item,) = filled.diff.skipped
        assert item.reason is SkipReason.NO_PATCH and item.detail == NO_CHECKOUT
        assert filled.filled == () and filled.note and "fetch-depth: 0" in filled.note
