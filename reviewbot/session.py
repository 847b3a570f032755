"""One review run, from options to a ``RunResult``: the testable core behind `reviewbot diff`.

The CLI parses arguments into ``SessionOptions``; everything else happens here, in
process, with the environment passed in (never read behind the caller's back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from . import __version__
from .audit import AuditLog
from .errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, InputError
from .models import Diff, RunResult, Severity, SkipReason
from .pipeline import finish, not_reviewed, prepare, security_incomplete
from .planner import escalation_reserve
from .policy import load_policy
from .policy.model import Policy
from .redact import Redactor, install_logging_filter
from .sources import DiffSource, GitSource, PatchSource
from .tokens import get_estimator

log = logging.getLogger("reviewbot")

KEY_VARIABLES = ("OPENAI_API_KEY", "OPENAI_API_KEY_CYBER", "OPENAI_API_KEY_GENERAL")


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """An empty environment variable counts as unset (GitHub passes empty strings)."""
    value = env.get(name)
    return value if value else None


@dataclass(frozen=True)
class SessionOptions:
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    policy_path: Path | None = None
    patch: str | None = None
    base: str | None = None
    staged: bool = False
    since: str | None = None  # review only the hunks touching lines changed since this revision
    offline: bool = False
    dry_run: bool = False
    budget_tokens: int | None = None
    fail_on: Severity | None = None
    fail_on_given: bool = False
    audit_path: Path | None = None
    verbose: bool = False


class Session:
    def __init__(self, options: SessionOptions, *, progress: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.progress = progress or (lambda _msg: None)
        self.policy: Policy = load_policy(options.policy_path, cwd=options.cwd, env=options.env)
        self.redactor = Redactor.from_config(self.policy.redaction)
        install_logging_filter(self.redactor, log)
        self.fail_on: Severity | None = options.fail_on if options.fail_on_given else self.policy.fail_on.severity

    def source(self) -> DiffSource:
        if self.options.patch is not None:
            return PatchSource(self.options.patch)
        return GitSource(
            self.options.cwd, base=self.options.base, staged=self.options.staged, since=self.options.since
        )

    def budget_tokens(self) -> int:
        per_run = self.options.budget_tokens or self.policy.budget.tokens_per_run
        return min(per_run, self.policy.budget.tokens_per_pr)

    def run(self) -> RunResult:
        sink: IO[str] | None = None
        if self.options.audit_path is not None:
            try:
                sink = self.options.audit_path.open("w", encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write audit file {self.options.audit_path}: {exc.strerror}") from exc
        try:
            return self._run(AuditLog(sink, scrub=self.redactor.scrub, keep=False))
        finally:
            if sink is not None:
                sink.close()

    def _run(self, audit: AuditLog) -> RunResult:
        source = self.source()
        diff = source.read()
        head = source.head_sha()
        audit.append(
            "run_start",
            tool_version=__version__,
            policy_source=self.policy.source,
            policy_digest=self.policy.digest,
            source=source.describe(),
            head_sha=head,
        )
        self.progress(f"reviewbot: {len(diff.hunks)} hunks in {len(diff.files)} files")
        notes = []
        if self.options.since is not None:
            earlier = sum(1 for s in diff.skipped if s.reason is SkipReason.UNCHANGED_SINCE)
            notes.append(
                f"--since {self.options.since}: {len(diff.hunks)} hunk(s) touch lines changed since then; "
                f"{earlier} hunk(s) of the branch were not reviewed (unchanged-since: reviewed before it)"
            )
        return review_diff(
            diff,
            self.policy,
            env=self.options.env,
            redactor=self.redactor,
            audit=audit,
            source=source.describe(),
            head_sha=head,
            offline=self.options.offline,
            dry_run=self.options.dry_run,
            budget_tokens=self.budget_tokens(),
            progress=self.progress,
            notes=notes,
        )


def has_api_key(env: Mapping[str, str]) -> bool:
    return any(env_value(env, name) for name in KEY_VARIABLES)


def review_diff(
    diff: Diff,
    policy: Policy,
    *,
    env: Mapping[str, str],
    redactor: Redactor,
    audit: AuditLog,
    source: str,
    head_sha: str | None,
    offline: bool,
    dry_run: bool,
    budget_tokens: int,
    progress: Callable[[str], None] = lambda _m: None,
    safety_identifier: str | None = None,
    notes: Sequence[str] = (),
    owed_security: Collection[str] = (),
) -> RunResult:
    """The core of every run (`reviewbot diff` and `reviewbot github`): diff in, RunResult out.

    Offline (asked for, or no API key) and dry runs plan and report without any network call;
    otherwise the model lanes probe, then review the plan within ``budget_tokens``.
    ``owed_security``: hunk ids whose security review an earlier run owes (see :func:`prepare`).
    """
    notes = list(notes)
    if not diff.hunks and not diff.skipped:
        notes.append("nothing to review: the diff is empty")
    offline = offline or not has_api_key(env)
    if not offline and not dry_run:
        from .review import review_with_models  # the model lanes; imported only when used

        return review_with_models(
            diff, policy, env=env, redactor=redactor, audit=audit, source=source, head_sha=head_sha,
            budget_tokens=budget_tokens, progress=progress, safety_identifier=safety_identifier, notes=notes,
            owed_security=owed_security,
        )
    estimator = get_estimator(allow_download=False)
    # The same plan a real run would make: the general lane leaves the escalation reserve.
    prepared = prepare(
        diff, policy, redactor=redactor, estimator=estimator, budget_tokens=budget_tokens, audit=audit,
        reserve_for_escalation=escalation_reserve(policy.budget, budget_tokens), owed_security=owed_security,
    )
    if offline:
        why = "--offline" if has_api_key(env) else "no API key is set (OPENAI_API_KEY)"
        notes.append(f"offline ({why}): no model was called; routing, the plan and local findings only")
        skips = not_reviewed(prepared, SkipReason.OFFLINE, why)
    else:
        notes.append("dry run: no model was called; the plan is what a real run would send")
        skips = not_reviewed(prepared, SkipReason.DRY_RUN, "--dry-run")
    return finish(prepared, policy, source=source, head_sha=head_sha, audit=audit, review_skips=skips, notes=notes)


def exit_code_for(result: RunResult, fail_on: Severity | None, fail_on_incomplete: bool) -> int:
    """Findings at or above ``fail_on`` → 1; else an incomplete security review, when asked → 3."""
    if fail_on is not None and any(f.severity >= fail_on for f in result.findings):
        return EXIT_FINDINGS
    if fail_on_incomplete and security_incomplete(result):
        return EXIT_INCOMPLETE
    return EXIT_OK


def render(result: RunResult, fmt: str, *, scrub: Callable[[str], str], color: bool) -> str:
    if fmt == "json":
        from .report.jsonout import render_json

        return render_json(result, scrub=scrub)
    if fmt == "sarif":
        import json

        from .report.jsonout import _scrub_all
        from .report.sarif import render_sarif

        return json.dumps(_scrub_all(render_sarif(result), scrub), sort_keys=True, indent=2) + "\n"
    if fmt in {"markdown", "github"}:
        from .report.markdown import render_markdown

        return scrub(render_markdown(result))
    from .report.text import render_text

    return render_text(result, scrub=scrub, color=color)


def check_writable(output: Path) -> None:
    """Fail before any work (and any token spent) when the report could not be written."""
    import os

    parent = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise InputError(f"cannot write report to {output}: it is a directory")
    if not parent.is_dir():
        raise InputError(f"cannot write report to {output}: no directory {parent}")
    if not os.access(output if output.exists() else parent, os.W_OK):
        raise InputError(f"cannot write report to {output}: permission denied")


def write_report(
    result: RunResult, *, fmt: str, output: Path | None, scrub: Callable[[str], str], color: bool
) -> None:
    text = render(result, fmt, scrub=scrub, color=color)
    if output is None:
        import sys

        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write report to {output}: {exc.strerror}") from exc
