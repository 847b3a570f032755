"""`reviewbot github`: the Action's entry point; also runs locally with --repo/--pr."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from ..github.run import options_from_env, run_github
from .diff import positive_int, severity

_REPO = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")


def _repo(value: str) -> str:
    if not _REPO.match(value):
        raise argparse.ArgumentTypeError(f"expected OWNER/NAME, got {value[:60]!r}")
    return value


def _pr(value: str) -> int:
    text = value.strip().lstrip("#")
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a pull request number, got {value[:40]!r}")
    return int(text)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "github",
        help="review a pull request on GitHub (the Action's entry point)",
        description=(
            "Review one pull request: read it through the GitHub API, take the policy from its base "
            "branch, review the diff, post one COMMENT review and edit the summary comment in place, "
            "and write the job summary, outputs, SARIF, JSON report and audit log. In a workflow it "
            "reads GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_TOKEN, "
            "GITHUB_STEP_SUMMARY, GITHUB_OUTPUT and RUNNER_TEMP; the Action's inputs arrive as "
            "REVIEWBOT_* variables (see docs/action.md). Locally: --repo OWNER/NAME --pr N."
        ),
    )
    parser.add_argument("--repo", type=_repo, metavar="OWNER/NAME", help="the repository (default: GITHUB_REPOSITORY)")
    parser.add_argument("--pr", type=_pr, metavar="N", help="the pull request number (default: from the event)")
    parser.add_argument(
        "--no-post", dest="post", action="store_false",
        help="post nothing to the pull request; print the summary instead",
    )
    parser.add_argument(
        "--fail-on", type=severity, metavar="SEVERITY", default=argparse.SUPPRESS,
        help="exit 1 on a finding at or above SEVERITY (critical|high|medium|low|info|none; "
        "default: the policy's fail_on.severity)",
    )
    parser.add_argument(
        "--budget-tokens", type=positive_int, metavar="N",
        help="cap this run at N tokens (overrides budget.tokens_per_run)",
    )
    parser.add_argument("--full", action="store_true", help="review the whole pull request")
    parser.add_argument(
        "--output-dir", type=Path, metavar="DIR",
        help="where the SARIF, JSON report and audit log go (default: $RUNNER_TEMP/reviewbot)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    options = options_from_env(
        env,
        repo=args.repo,
        pr=args.pr,
        post=args.post,
        fail_on=getattr(args, "fail_on", None),
        fail_on_given="fail_on" in vars(args),
        budget_tokens=args.budget_tokens,
        full=args.full,
        output_dir=args.output_dir,
    )
    outcome = run_github(options, env, cwd=Path.cwd(), out=sys.stdout, err=sys.stderr)
    return outcome.exit_code
