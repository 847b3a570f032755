"""One run of the GitHub Action (`reviewbot github`): context, PR, base policy, review, publish, gate.

Order of a run:

1. the Actions context (event, repository, API URL, token, output files), or ``--repo/--pr``;
2. the PR through the files API (all pages, up to 3,000 files); files without a patch from
   the workspace's checkout when it holds both commits;
3. the policy from the PR's **base** SHA (a policy the PR changes is reported, not used), then
   the Action's overrides (SECURITY_PATHS, MODEL_CYBER, MODEL_GENERAL);
4. the review state from the bot's own summary comment (:mod:`.state`, trusted only when
   signed, or with no key when it names the bot's latest review) decides the scope: the PR
   hunks changed since the last reviewed head plus those left unreviewed, or a full review
   (:mod:`.rereview`), and the budget: the smaller of the per-run cap and the PR's remainder;
5. :func:`reviewbot.session.review_diff`: the model lanes with a key; without one (or on a
   ``pull_request`` from a fork) only local checks run, and the run is ``skipped``;
6. one ``COMMENT`` review with new fingerprints only, the summary comment (with the next
   state block) edited in place (a read-only token: everything goes to the job summary
   instead, and it says so);
7. the job summary, annotations, SARIF, the JSON report, the audit log, ``$GITHUB_OUTPUT``.

Outputs are written in every case; an error still writes ``state=failed`` before it is raised
(as a :class:`~reviewbot.errors.ReviewbotError`, one line for the user).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from github import Github, GithubException
from github.PullRequest import PullRequest
from requests.exceptions import RequestException

from .. import __version__
from ..audit import AuditLog
from ..errors import GitHubError, PolicyError, ReviewbotError, UsageError
from ..lanes.probe import PROBE_INPUT_RESERVE, PROBE_MAX_OUTPUT
from ..lanes.prompt import safety_identifier
from ..models import Diff, Finding, RunResult, RunState, Severity
from ..pipeline import finish, prepare
from ..policy import apply_env, default_policy_text, parse_policy
from ..policy.model import Policy
from ..redact import Redactor, install_logging_filter
from ..report.jsonout import render_json
from ..report.markdown import TITLE, NotInline, ResolvedFinding, render_markdown
from ..report.sanitize import escape_text
from ..session import exit_code_for, has_api_key, log, render, review_diff
from ..tokens import get_estimator
from .checkout import fill_from_checkout
from .client import ClientSettings, make_github, resolve_bot_login
from .context import ActionContext, load_context
from .incremental import Carried, carry_findings
from .outputs import annotation_lines, append_step_summary, escalation_outputs, stop_commands, write_outputs
from .rereview import RunBudget, Scope, decide_scope, next_state, read_state, run_budget, spent_message
from .review import PublishResult, ReviewPublisher
from .source import POLICY_PATH, PullSource, fetch_pull
from .state import ENV_STATE_KEY as STATE_KEY_VARIABLE
from .state import LoadedState, ReviewState, StateKey, render_block, state_key
from .summary import SUMMARY_LIMIT, SummaryResult, upsert_summary

# Action inputs reach the command as environment variables (action.yml maps each one).
ENV_POLICY = "REVIEWBOT_POLICY"
ENV_FAIL_ON = "REVIEWBOT_FAIL_ON"
ENV_FAIL_ON_INCOMPLETE = "REVIEWBOT_FAIL_ON_INCOMPLETE"
ENV_BUDGET = "REVIEWBOT_BUDGET_TOKENS"
ENV_BUDGET_PER_PR = "REVIEWBOT_BUDGET_TOKENS_PER_PR"
ENV_FULL = "REVIEWBOT_FULL_REVIEW"
ENV_PR = "REVIEWBOT_PR_NUMBER"
ENV_BOT_LOGIN = "REVIEWBOT_BOT_LOGIN"
ENV_STATE_KEY = STATE_KEY_VARIABLE  # signs the review state (else a key derived from the security lane's key)

READ_ONLY_NOTICE = (
    "The token cannot write to this pull request (GitHub answered 403): nothing was posted; the full "
    "report is in the job summary and the workflow artifact. Give the job `pull-requests: write`."
)


class ActionInputError(UsageError):
    """An Action input (or its environment variable) that does not parse."""


@dataclass(frozen=True)
class GithubOptions:
    """What the command line and the Action's inputs asked for (command-line flags win)."""

    repo: str | None = None
    pr: int | None = None
    post: bool = True
    fail_on: Severity | None = None
    fail_on_given: bool = False
    fail_on_incomplete: bool | None = None  # None: the policy decides
    budget_tokens: int | None = None
    budget_tokens_per_pr: int | None = None
    full: bool = False
    policy_path: str | None = None  # a path in the repository, read at the base SHA
    output_dir: Path | None = None


@dataclass(frozen=True)
class Artifacts:
    directory: Path
    sarif: Path
    report: Path
    audit: Path


@dataclass(frozen=True)
class GithubRunOutcome:
    exit_code: int
    state: RunState
    result: RunResult | None
    markdown: str
    artifacts: Artifacts
    publish: PublishResult | None = None
    summary: SummaryResult | None = None
    notices: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- inputs


def _value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "")
    return value.strip() or None


def _positive(env: Mapping[str, str], name: str, input_name: str) -> int | None:
    raw = _value(env, name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) <= 0:
        raise ActionInputError(
            f"input {input_name} ({name}): expected a positive whole number of tokens, got {raw[:40]!r}",
            hint=f"set {input_name} to e.g. 100000, or leave it empty for the policy's value",
        )
    return int(raw)


def _bool(env: Mapping[str, str], name: str, input_name: str) -> bool | None:
    raw = _value(env, name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ActionInputError(
        f"input {input_name} ({name}): expected true or false, got {raw[:40]!r}", hint="use true or false"
    )


def parse_severity(raw: str, where: str) -> Severity | None:
    if raw.strip().lower() == "none":
        return None
    try:
        return Severity.parse(raw)
    except ValueError:
        raise ActionInputError(
            f"{where}: not a severity: {raw[:40]!r}", hint="one of critical, high, medium, low, info, none"
        ) from None


def options_from_env(
    env: Mapping[str, str],
    *,
    repo: str | None = None,
    pr: int | None = None,
    post: bool = True,
    fail_on: Severity | None = None,
    fail_on_given: bool = False,
    budget_tokens: int | None = None,
    full: bool = False,
    output_dir: Path | None = None,
) -> GithubOptions:
    """The Action's inputs (from the environment), with what the command line gave on top."""
    fail_on_raw = _value(env, ENV_FAIL_ON)
    if not fail_on_given and fail_on_raw is not None:
        fail_on, fail_on_given = parse_severity(fail_on_raw, f"input fail-on ({ENV_FAIL_ON})"), True
    pr_raw = _value(env, ENV_PR)
    if pr is None and pr_raw is not None:
        digits = pr_raw.lstrip("#")
        if not digits.isdigit() or int(digits) <= 0:
            raise ActionInputError(f"input pr-number ({ENV_PR}): not a PR number: {pr_raw[:40]!r}",
                                   hint="pass the pull request's number, e.g. 42")
        pr = int(digits)
    return GithubOptions(
        repo=repo,
        pr=pr,
        post=post,
        fail_on=fail_on,
        fail_on_given=fail_on_given,
        fail_on_incomplete=_bool(env, ENV_FAIL_ON_INCOMPLETE, "fail-on-incomplete"),
        budget_tokens=budget_tokens or _positive(env, ENV_BUDGET, "budget-tokens"),
        budget_tokens_per_pr=_positive(env, ENV_BUDGET_PER_PR, "budget-tokens-per-pr"),
        full=full or bool(_bool(env, ENV_FULL, "full-review")),
        policy_path=_value(env, ENV_POLICY),
        output_dir=output_dir,
    )


# ----------------------------------------------------------------------------- helpers


def client_settings(ctx: ActionContext) -> ClientSettings:
    """How to talk to GitHub (tests replace this to drop the pauses between requests)."""
    return ClientSettings(api_url=ctx.api_url, token=ctx.token or "")


def artifacts_for(env: Mapping[str, str], output_dir: Path | None) -> Artifacts:
    if output_dir is not None:
        directory = output_dir
    elif _value(env, "RUNNER_TEMP"):
        directory = Path(str(_value(env, "RUNNER_TEMP"))) / "reviewbot"
    else:
        directory = Path(tempfile.mkdtemp(prefix="reviewbot-"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output directory {directory}: {exc.strerror}") from None
    return Artifacts(
        directory, directory / "reviewbot.sarif", directory / "reviewbot-report.json",
        directory / "reviewbot-audit.jsonl",
    )


def _github_error(exc: GithubException | RequestException, what: str) -> GitHubError:
    if isinstance(exc, GithubException):
        if exc.status == 401:
            from .client import GitHubAuthError

            return GitHubAuthError(f"GitHub refused the token (401) while {what}", hint="check github-token")
        return GitHubError(f"GitHub answered {exc.status} while {what}",
                           hint="check the token's permissions (contents: read, pull-requests: write)")
    return GitHubError(f"cannot reach GitHub while {what}: {type(exc).__name__}",
                       hint="check GITHUB_API_URL and the runner's network")


def load_base_policy(source: PullSource, options: GithubOptions, env: Mapping[str, str]) -> tuple[Policy, list[str]]:
    """The policy at the base SHA (or the shipped default), with the Action's overrides applied."""
    notices: list[str] = []
    pol = source.policy
    where = f"{pol.path}@{pol.base_sha[:12]}"
    if pol.text is None:
        if options.policy_path and options.policy_path != POLICY_PATH:
            raise PolicyError(
                f"{pol.path}: no such file on the base branch ({pol.base_sha[:12]})",
                hint="the policy input names a file in the repository as it is on the base branch",
            )
        policy = parse_policy(default_policy_text(), source="<default>")
    else:
        policy = parse_policy(pol.text, source=where)
    if pol.changed_by_pr:
        notices.append(
            f"This pull request changes {pol.path}: it was reviewed with the policy from the base branch "
            f"({pol.base_sha[:12]}), as every pull request is; the change takes effect once it is merged."
        )
    return apply_env(policy, env), notices


def budget_for(policy: Policy, options: GithubOptions, loaded: LoadedState | None = None) -> RunBudget:
    """What this run may spend: the smaller of the per-run cap and what the PR's budget has left."""
    per_run = options.budget_tokens or policy.budget.tokens_per_run
    per_pr = options.budget_tokens_per_pr or policy.budget.tokens_per_pr
    return run_budget(per_run, per_pr, loaded or LoadedState(None, "no earlier review state", False),
                      min_call=policy.budget.max_output_tokens_per_call)


def _scrubbed(f: Finding, scrub: Callable[[str], str]) -> Finding:
    return dataclasses.replace(f, title=scrub(f.title), rule=scrub(f.rule))


def failed_state(state: ReviewState, audit: AuditLog | None) -> ReviewState:
    """The earlier state after a failed run: same head and work left, plus the tokens the ledger charged."""
    charged: dict[str, int] = {}
    for line in audit.lines if audit is not None else ():
        event = json.loads(line)
        if event.get("event") == "budget.charge" and isinstance(event.get("charged"), int):
            lane = str(event.get("lane"))
            charged[lane] = charged.get(lane, 0) + int(event["charged"])
    if not any(charged.values()):
        return state
    lanes = dict(state.tokens_by_lane)
    for lane, n in charged.items():
        lanes[lane] = lanes.get(lane, 0) + n
    return dataclasses.replace(state, tokens_by_lane=tuple(sorted(lanes.items())), runs=state.runs + 1,
                               last_state=RunState.FAILED.value)


def _resolved(publish: PublishResult | None, carried: Carried) -> tuple[ResolvedFinding, ...]:
    """Resolved by this run: the publisher's (markers no longer reported) and the carried state's, once each."""
    out = {r.fingerprint: r for r in carried.resolved}
    out.update({r.fingerprint: r for r in (publish.resolved if publish else ())})
    return tuple(sorted(out.values(), key=lambda r: (r.path, r.line or 0, r.fingerprint)))


def _total_cost(result: RunResult) -> float | None:
    return sum(cost for _, cost in result.cost_usd) if result.cost_usd else None


# ----------------------------------------------------------------------------- the run


@dataclass
class _Run:
    options: GithubOptions
    env: dict[str, str]
    cwd: Path
    out: TextIO
    err: TextIO
    artifacts: Artifacts | None = None
    ctx: ActionContext | None = None
    redactor: Redactor | None = None
    pull: PullRequest | None = None
    bot_login: str | None = None
    notices: list[str] = field(default_factory=list)
    key: StateKey | None = None
    loaded: LoadedState | None = None  # the trusted state read at the start (for the failure path)
    audit: AuditLog | None = None

    def scrub(self, text: str) -> str:
        return str(self.redactor.scrub(text)) if self.redactor is not None else text

    def progress(self, message: str) -> None:
        print(message, file=self.err)

    @property
    def in_actions(self) -> bool:
        return self.env.get("GITHUB_ACTIONS", "").lower() == "true"

    # -- outputs, written on every path --
    def write_outputs(self, state: RunState, result: RunResult | None, *, sarif: bool, report: bool) -> None:
        path = self.ctx.output if self.ctx is not None else None
        if path is None and _value(self.env, "GITHUB_OUTPUT"):
            path = Path(str(_value(self.env, "GITHUB_OUTPUT")))
        if path is None:
            return
        art = self.artifacts
        highest = result.highest_severity if result is not None else None
        values = {
            "findings": str(len(result.findings)) if result is not None else "0",
            "highest-severity": highest.label if highest is not None else "none",
            "state": state.value,
            "sarif-file": str(art.sarif) if art is not None and sarif else "",
            "audit-file": str(art.audit) if art is not None and art.audit.exists() else "",
            "report-file": str(art.report) if art is not None and report else "",
            **escalation_outputs(result),
        }
        try:
            write_outputs(path, values)
        except OSError as exc:
            print(f"reviewbot: cannot write GITHUB_OUTPUT: {exc.strerror}", file=self.err)

    def step_summary(self, markdown: str) -> None:
        path = self.ctx.step_summary if self.ctx is not None else None
        if path is None and _value(self.env, "GITHUB_STEP_SUMMARY"):
            path = Path(str(_value(self.env, "GITHUB_STEP_SUMMARY")))
        if path is None:
            return
        try:
            append_step_summary(path, markdown)
        except OSError as exc:
            print(f"reviewbot: cannot write GITHUB_STEP_SUMMARY: {exc.strerror}", file=self.err)

    def echo(self, text: str) -> None:
        """Untrusted text to the log: inside ::stop-commands:: in a workflow so it cannot issue commands."""
        self.out.write((stop_commands(text) if self.in_actions else text.rstrip("\n")) + "\n")

    # -- the failure path --
    def failed(self, error: ReviewbotError) -> None:
        message = self.scrub(error.message)
        hint = self.scrub(error.hint) if error.hint else ""
        lines = [TITLE, "", "**The review failed: nothing can be said about this change.**", "",
                 f"> {escape_text(message, max_chars=500, single_line=True)}"]
        if hint:
            lines += ["", f"Hint: {escape_text(hint, max_chars=300, single_line=True)}"]
        markdown = "\n".join(lines) + "\n"
        self.step_summary(markdown)
        if self.loaded is not None and self.loaded.state is not None:
            # The earlier state still holds (a failed run must not make the next one start over), plus
            # what this run was charged before it failed: the PR's spend never goes down.
            markdown = render_block(failed_state(self.loaded.state, self.audit), self.key) + "\n" + markdown
        if self.pull is not None and self.bot_login is not None and self.options.post:
            with contextlib.suppress(GithubException, RequestException):  # best effort: the job fails anyway
                upsert_summary(self.pull, markdown, bot_login=self.bot_login)
        self.write_outputs(RunState.FAILED, None, sarif=False, report=False)

    # -- the happy path --
    def run(self) -> GithubRunOutcome:
        env = self.env
        if self.options.repo:
            env["GITHUB_REPOSITORY"] = self.options.repo
        self.artifacts = artifacts_for(env, self.options.output_dir)
        ctx = self.ctx = load_context(env, pr_number=self.options.pr)
        if not ctx.token:
            from .client import GitHubAuthError

            raise GitHubAuthError("no GitHub token (GITHUB_TOKEN is empty)",
                                  hint="pass github-token, or set GITHUB_TOKEN locally")
        gh = make_github(client_settings(ctx))
        try:
            repo = gh.get_repo(ctx.repository)
            source = fetch_pull(repo, ctx.pr_number, policy_path=self.options.policy_path or POLICY_PATH)
        except RequestException as exc:
            raise _github_error(exc, f"reading pull request #{ctx.pr_number}") from None
        info = source.info

        fork = ctx.event_name == "pull_request" and bool(ctx.is_fork if ctx.is_fork is not None else info.is_fork)
        keyed = has_api_key(env)
        skipped_why: str | None = None
        if fork and not keyed:
            skipped_why = (
                f"This pull request comes from a fork ({info.head_repo or 'a deleted repository'}) and ran on "
                "`pull_request`, which gives fork pull requests no secrets and a read-only token: no model "
                "was called and nothing was posted. Use `pull_request_target` as docs/action.md shows."
            )
        elif not keyed:
            skipped_why = (
                "No OpenAI API key was given (openai-api-key is empty): no model was called. Local checks "
                "(committed secrets) still ran."
            )
        post = self.options.post and not fork

        policy, notices = load_base_policy(source, self.options, env)
        self.notices += notices
        redactor = self.redactor = Redactor.from_config(policy.redaction)
        install_logging_filter(redactor, log)

        if ctx.head_sha and ctx.head_sha != info.head_sha:
            self.notices.append(
                f"The pull request's head moved since this run was triggered ({ctx.head_sha[:12]} → "
                f"{info.head_sha[:12]}): the newer head was reviewed."
            )
        if source.files_truncated:
            self.notices.append(
                f"The pull request changes {info.changed_files:,} files; GitHub's files API lists only "
                f"the first {source.files_listed:,}: the rest were not reviewed."
            )
        workspace = Path(_value(env, "GITHUB_WORKSPACE") or self.cwd)
        filled = fill_from_checkout(source.diff, workspace, info.base_sha, info.head_sha)
        self.key = state_key(env)
        loaded = self.loaded = self._prior(gh, ctx, info.number)
        scope = self._scope(gh, ctx, info.head_sha, filled.diff, loaded, policy)
        budget = budget_for(policy, self.options, loaded)
        if loaded.ignored:
            self.notices.append(
                f"{loaded.ignored} comment(s) by other accounts carry something that looks like a reviewbot state "
                "block: ignored (only the bot's own, verified state is read)."
            )
        if not loaded.trusted and loaded.bot_ran_before:
            self.notices.append(f"The earlier review state was not used: {loaded.reason}.")

        with self.artifacts.audit.open("w", encoding="utf-8") as sink:
            # run_end is held back until the publish event is written: it must be the log's last line.
            audit = self.audit = AuditLog(sink, scrub=redactor.scrub, defer_end=True)
            try:
                result = self._review(audit, ctx, source, policy, scope, budget, skipped_why, filled.note)
                carried = Carried((), ())
                if not scope.full and loaded.state is not None:
                    carried = carry_findings(loaded.state.open, result.findings, result.reviewed, filled.diff)
                    result = dataclasses.replace(
                        result, findings=tuple(sorted((*result.findings, *carried.findings), key=Finding.sort_key))
                    )
                if skipped_why is not None:
                    self.notices.append(skipped_why)
                    result = dataclasses.replace(result, state=RunState.SKIPPED)
                elif source.files_truncated and result.state is RunState.COMPLETE:
                    result = dataclasses.replace(result, state=RunState.PARTIAL)
                extra_not_inline = tuple(
                    NotInline(f.fingerprint, "GitHub shows no patch for this file, so it cannot take an inline comment")
                    for f in result.findings if f.path in filled.filled
                )
                publish: PublishResult | None = None
                summary: SummaryResult | None = None
                if post:
                    publish, summary = self._publish(gh, ctx, info.head_sha, result, source, extra_not_inline,
                                                     scope, budget, carried, filled.diff)
                    audit.append(
                        "publish", posted=len(publish.posted), already_posted=len(publish.already_posted),
                        not_inline=len(publish.not_inline), resolved=len(publish.resolved),
                        review_ids=list(publish.review_ids), requests=publish.requests, read_only=publish.read_only,
                        summary_comment=summary.comment_id if summary else None,
                        summary_created=bool(summary and summary.created),
                    )
                else:
                    why = "--no-post" if not self.options.post else "a fork's pull_request run has a read-only token"
                    self.notices.append(f"Nothing was posted to the pull request ({why}).")
                    audit.append("publish", posted=0, skipped=why)
                audit.end()
            finally:
                if audit.holding_end:  # publishing raised: the log still ends, and says so
                    audit.end(publish_failed=True)

        not_inline = (*(publish.not_inline if publish else ()), *extra_not_inline)
        resolved = _resolved(publish, carried)
        markdown = self.scrub(render_markdown(
            result, not_inline=not_inline, resolved=resolved, notices=self.notices,
            estimated_cost_usd=_total_cost(result), scope=scope.line, budget_lines=budget.lines(result.tokens_used),
        ))
        self.step_summary(markdown)
        self.artifacts.sarif.write_text(render(result, "sarif", scrub=redactor.scrub, color=False), encoding="utf-8")
        self.artifacts.report.write_text(render_json(result, scrub=redactor.scrub), encoding="utf-8")
        for line in annotation_lines([_scrubbed(f, redactor.scrub) for f in result.findings]):
            self.out.write(line + "\n")
        if not self.options.post:
            self.echo(markdown)
        fail_on = self.options.fail_on if self.options.fail_on_given else policy.fail_on.severity
        incomplete = (
            self.options.fail_on_incomplete if self.options.fail_on_incomplete is not None
            else policy.fail_on.incomplete
        )
        code = exit_code_for(result, fail_on, incomplete)
        self.write_outputs(result.state, result, sarif=True, report=True)
        self.progress(
            f"reviewbot: state {result.state.value}, {len(result.findings)} finding(s)"
            f"{', highest ' + result.highest_severity.label if result.highest_severity else ''}; "
            f"report in {self.artifacts.directory}"
        )
        return GithubRunOutcome(code, result.state, result, markdown, self.artifacts, publish, summary,
                                tuple(self.notices))

    def _prior(self, gh: Github, ctx: ActionContext, number: int) -> LoadedState:
        """The trusted review state of this PR (reads only; needs the bot's identity)."""
        try:
            identity = resolve_bot_login(gh, configured=_value(self.env, ENV_BOT_LOGIN))
        except GitHubError:
            if self.options.post:
                raise
            return LoadedState(None, "the bot's identity is unknown, so its state cannot be read", False)
        self.bot_login = identity.login
        try:
            pull = self.pull = gh.get_repo(ctx.repository).get_pull(number)
            return read_state(pull, bot_login=identity.login, key=self.key, repository=ctx.repository)
        except (GithubException, RequestException) as exc:
            raise _github_error(exc, "reading the review state") from None

    def _scope(
        self, gh: Github, ctx: ActionContext, head_sha: str, diff: Diff, loaded: LoadedState, policy: Policy
    ) -> Scope:
        try:
            repo = gh.get_repo(ctx.repository)
            pull = self.pull or repo.get_pull(ctx.pr_number)
            return decide_scope(repo, pull, diff, head_sha=head_sha, loaded=loaded, policy_digest=policy.digest,
                                full_asked=self.options.full)
        except (GithubException, RequestException) as exc:
            raise _github_error(exc, "comparing with the last reviewed commit") from None

    def _any_call_fits(self, policy: Policy, diff: Diff, tokens: int, owed: frozenset[str]) -> bool:
        """Whether the plan within ``tokens`` holds one request, or there is nothing a model would see."""
        assert self.redactor is not None
        probes = len(policy.lanes) * (PROBE_INPUT_RESERVE + PROBE_MAX_OUTPUT)  # the probe is paid first
        prepared = prepare(diff, policy, redactor=self.redactor, estimator=get_estimator(allow_download=True),
                           budget_tokens=max(0, tokens - probes), audit=AuditLog(None), owed_security=owed)
        return bool(prepared.plan.requests) or not prepared.items

    def _without_model(
        self, audit: AuditLog, policy: Policy, diff: Diff, described: str, head_sha: str, notes: list[str],
        owed: frozenset[str],
    ) -> RunResult:
        """Route, plan (nothing fits a budget of 0) and local checks, with no model call."""
        assert self.redactor is not None
        prepared = prepare(diff, policy, redactor=self.redactor, estimator=get_estimator(allow_download=False),
                           budget_tokens=0, audit=audit, owed_security=owed)
        return finish(prepared, policy, source=described, head_sha=head_sha, audit=audit, notes=notes)

    def _review(
        self, audit: AuditLog, ctx: ActionContext, source: PullSource, policy: Policy, scope: Scope,
        budget: RunBudget, skipped_why: str | None, fill_note: str | None,
    ) -> RunResult:
        assert self.redactor is not None
        info = source.info
        described = f"{ctx.repository} pull request #{info.number}"
        audit.append(
            "run_start", tool_version=__version__, policy_source=policy.source, policy_digest=policy.digest,
            source=described, head_sha=info.head_sha,
        )
        audit.append(
            "pull_request", repository=ctx.repository, number=info.number, trigger=ctx.event_name,
            base_sha=info.base_sha, head_sha=info.head_sha, fork=info.is_fork,
            files_listed=source.files_listed, files_truncated=source.files_truncated,
            policy_path=source.policy.path, policy_from_base=source.policy.text is not None,
            policy_changed_by_pr=source.policy.changed_by_pr,
        )
        loaded = self.loaded or LoadedState(None, "", False)
        audit.append(
            "rereview", full=scope.full, reason=scope.reason, since=scope.since, selected=len(scope.diff.hunks),
            pr_hunks=len(source.diff.hunks), state_trusted=loaded.trusted, state_reason=loaded.reason,
            budget_tokens=budget.tokens, pr_spent_before=budget.spent_before, pr_budget=budget.per_pr,
            pr_total_verified=budget.verified,
        )
        notes = [fill_note] if fill_note else []
        diff = scope.diff
        if skipped_why is None and has_api_key(self.env):
            if not diff.hunks:
                return self._without_model(audit, policy, diff, described, info.head_sha, notes, scope.owed_security)
            if budget.pr_spent or (budget.from_state and budget.tokens < budget.per_run
                                   and not self._any_call_fits(policy, diff, budget.tokens, scope.owed_security)):
                runs = self.loaded.state.runs if self.loaded is not None and self.loaded.state is not None else 0
                notes.append(spent_message(budget, runs))
                self.notices.append(spent_message(budget, runs))
                return self._without_model(audit, policy, diff, described, info.head_sha, notes, scope.owed_security)
        return review_diff(
            diff, policy, env=self.env, redactor=self.redactor, audit=audit, source=described,
            head_sha=info.head_sha, offline=skipped_why is not None, dry_run=False, budget_tokens=budget.tokens,
            progress=self.progress, safety_identifier=safety_identifier(ctx.repository, info.author),
            notes=notes, owed_security=scope.owed_security,
        )

    def _publish(
        self, gh: Github, ctx: ActionContext, head_sha: str, result: RunResult, source: PullSource,
        extra_not_inline: tuple[NotInline, ...], scope: Scope, budget: RunBudget, carried: Carried,
        reviewed_diff: Diff,
    ) -> tuple[PublishResult, SummaryResult | None]:
        assert self.redactor is not None
        try:
            login = self.bot_login or resolve_bot_login(gh, configured=_value(self.env, ENV_BOT_LOGIN)).login
            self.bot_login = login
            repo = gh.get_repo(ctx.repository)
            pull = self.pull = self.pull or repo.get_pull(source.info.number)  # read once, in _prior
            publisher = ReviewPublisher(
                pull, repo.get_commit(head_sha), bot_login=login, scrub=self.redactor.scrub,
                allowed_hosts=(ctx.github_host,),
            )
            publish = publisher.publish(result.findings, source.diff, reviewed=result.reviewed)
        except (GithubException, RequestException) as exc:
            raise _github_error(exc, "publishing the review") from None
        self.notices += [n for n in publish.notices if not publish.read_only]
        summary: SummaryResult | None = None
        if not publish.read_only:
            resolved = _resolved(publish, carried)
            state = next_state(
                repository=ctx.repository, pull_number=source.info.number, head_sha=head_sha,
                policy_digest=result.policy_digest, loaded=self.loaded or LoadedState(None, "", False),
                budget=budget, result=result, pr=reviewed_diff, scope=scope,
                posted=(*publish.posted, *publish.already_posted), resolved=[r.fingerprint for r in resolved],
                cost_usd=_total_cost(result) or 0.0, scrub=self.redactor.scrub,
            )
            block = render_block(state, self.key)
            markdown = self.scrub(render_markdown(
                result, max_chars=max(10_000, SUMMARY_LIMIT - 200 - len(block)),
                not_inline=(*publish.not_inline, *extra_not_inline),
                resolved=resolved, notices=self.notices, estimated_cost_usd=_total_cost(result),
                scope=scope.line, budget_lines=budget.lines(result.tokens_used),
            ))
            try:
                summary = upsert_summary(pull, block + "\n" + markdown, bot_login=login)
            except (GithubException, RequestException) as exc:
                raise _github_error(exc, "writing the summary comment") from None
            if summary.error and not summary.read_only:
                self.notices.append(summary.error)
        if publish.read_only or (summary is not None and summary.read_only):
            self.notices.append(READ_ONLY_NOTICE)
        return publish, summary


def run_github(
    options: GithubOptions,
    env: Mapping[str, str],
    *,
    cwd: Path,
    out: TextIO,
    err: TextIO,
) -> GithubRunOutcome:
    """One Action run. Raises :class:`ReviewbotError` (after writing ``state=failed``) when it cannot finish."""
    run = _Run(options, dict(env), cwd, out, err)
    try:
        return run.run()
    except ReviewbotError as exc:
        run.failed(exc)
        raise
    except (GithubException, RequestException) as exc:
        error = _github_error(exc, "talking to GitHub")
        run.failed(error)
        raise error from exc
    except OSError as exc:
        io_error = ReviewbotError(f"cannot write the run's files: {exc.strerror or exc}",
                                  hint="check RUNNER_TEMP and the runner's disk")
        run.failed(io_error)
        raise io_error from exc

