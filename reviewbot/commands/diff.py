"""`reviewbot diff`: review the current branch, the index, or a patch file."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..models import Severity
from ..session import Session, SessionOptions, check_writable, exit_code_for, write_report

FORMATS = ("text", "json", "sarif", "markdown", "github")


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of tokens, got {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of tokens, got {number}")
    return number


def severity(value: str) -> Severity | None:
    if value.strip().lower() == "none":
        return None
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="review the current branch against its merge-base, the index, or a patch",
        description=(
            "Route every hunk, plan the token budget, report local findings (committed secrets) "
            "and, with an API key, review the planned hunks with the model lanes. Without a key, "
            "or with --offline, no network call is made and the report says so."
        ),
    )
    parser.add_argument(
        "base_ref", nargs="?", metavar="BASE", help="base ref (default: merge-base with the default branch)"
    )
    parser.add_argument("--base", dest="base_opt", metavar="REF", help="same as BASE")
    parser.add_argument("--patch", metavar="FILE", help="read a unified diff from FILE ('-' for stdin)")
    parser.add_argument("--staged", action="store_true", help="review the index (git diff --cached)")
    parser.add_argument(
        "--since", metavar="REV",
        help="review only the hunks that touch a line changed since REV (a commit, branch or tag); "
        "the others are reported as skipped (unchanged-since), never as clean",
    )
    parser.add_argument(
        "--policy", type=Path, metavar="FILE",
        help="policy file (default: .github/reviewbot.yml, else the shipped default)",
    )
    parser.add_argument("--offline", action="store_true", help="make no network call; plan and local findings only")
    parser.add_argument(
        "--dry-run", action="store_true", help="show the plan without calling a model, even with a key"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument(
        "--audit", type=Path, metavar="FILE", help="write the audit log (JSON Lines, hash-chained) to FILE"
    )
    parser.add_argument(
        "--budget-tokens", type=positive_int, metavar="N",
        help="cap this run at N tokens (overrides budget.tokens_per_run)",
    )
    parser.add_argument(
        "--fail-on", type=severity, metavar="SEVERITY", default=argparse.SUPPRESS,
        help="exit 1 on a finding at or above SEVERITY (critical|high|medium|low|info|none)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.base_ref and args.base_opt and args.base_ref != args.base_opt:
        raise UsageError("give the base once: BASE and --base differ")
    if args.patch and (args.base_ref or args.base_opt or args.staged or args.since):
        raise UsageError("--patch cannot be combined with BASE, --base, --staged or --since")
    options = SessionOptions(
        cwd=Path.cwd(),
        env=dict(os.environ),
        policy_path=args.policy,
        patch=args.patch,
        base=args.base_ref or args.base_opt,
        staged=args.staged,
        since=args.since,
        offline=args.offline,
        dry_run=args.dry_run,
        budget_tokens=args.budget_tokens,
        fail_on=getattr(args, "fail_on", None),
        fail_on_given="fail_on" in vars(args),
        audit_path=args.audit,
        verbose=bool(getattr(args, "verbose", False)),
    )
    if args.output is not None:
        check_writable(args.output)
    session = Session(options, progress=_progress if sys.stderr.isatty() else None)
    result = session.run()
    write_report(
        result,
        fmt=args.format,
        output=args.output,
        scrub=session.redactor.scrub,
        color=args.output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"),
    )
    return exit_code_for(result, session.fail_on, session.policy.fail_on.incomplete)


def _progress(message: str) -> None:
    print(message, file=sys.stderr)
