"""`reviewbot policy check [FILE]` and `reviewbot policy schema`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK
from ..models import Lane
from ..policy import load_policy, policy_schema


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="validate a policy or print its JSON Schema")
    sub = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="validate a policy file (default: .github/reviewbot.yml, else the shipped default)",
    )
    check.add_argument("file", type=Path, nargs="?", metavar="FILE")
    check.set_defaults(func=_check)
    schema = sub.add_parser("schema", help="print the policy's JSON Schema (draft 2020-12)")
    schema.set_defaults(func=_schema)


def _check(args: argparse.Namespace) -> int:
    policy = load_policy(args.file, cwd=Path.cwd(), env=os.environ)
    env_rules = sum(1 for r in policy.routes if r.origin != "policy")
    extra = f", {env_rules} from SECURITY_PATHS" if env_rules else ""
    print(
        f"ok: {policy.source} is valid ({len(policy.routes)} routes{extra}, "
        f"{len(policy.exclude)} exclude patterns, default lane {policy.default_lane.value}, "
        f"digest {policy.digest[:12]})"
    )
    if not any(r.lane is Lane.SECURITY for r in policy.routes) and policy.default_lane is not Lane.SECURITY:
        # Valid, but a repository policy that only sets a budget silently drops every security route.
        print(
            f"note: no route sends anything to the security lane: every hunk goes to the "
            f"{policy.default_lane.value} lane or is skipped. The shipped routes are in policies/default.yml "
            "of reviewbot: copy them into this file to keep them.",
            file=sys.stderr,
        )
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(policy_schema(), sort_keys=True, indent=2))
    return EXIT_OK
