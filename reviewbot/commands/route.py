"""`reviewbot route [--policy FILE] [--format text|json] PATH...`: which rule sends a path where.

Like ``git check-ignore -v``: ``<source>:<line>:<pattern>\\t<path>\\t<lane> (rule <name>)``, or
``default\\t<path>\\t<lane>`` when no pattern matched.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK, UsageError
from ..policy import load_policy
from ..policy.model import Policy
from ..router import PathDecision, Router


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "route",
        help="which rule sends each path to which lane",
        description="Print, for each path, the lane and the exact policy rule and pattern that decided it.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="repository-relative path")
    parser.add_argument("--policy", type=Path, metavar="FILE", help="policy file (default: discovery)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cwd = Path.cwd()
    policy = load_policy(args.policy, cwd=cwd, env=os.environ)
    router = Router(policy)
    rows = [(path, router.route_path(path)) for path in (_repo_path(p, cwd) for p in args.paths)]
    if args.format == "json":
        print(json.dumps(_json(policy, rows), sort_keys=True, indent=2))
    else:
        for path, decision in rows:
            print(format_decision(policy, path, decision))
    return EXIT_OK


def _repo_path(raw: str, cwd: Path) -> str:
    """A repository-relative POSIX path; an absolute path must lie under the working directory."""
    path = raw.replace(os.sep, "/") if os.sep != "/" else raw
    if Path(raw).is_absolute():
        try:
            path = Path(raw).relative_to(cwd).as_posix()
        except ValueError:
            raise UsageError(
                f"{raw!r} is outside the working directory",
                hint="pass paths relative to the repository root",
            ) from None
    while path.startswith("./"):
        path = path[2:]
    if not path or path == ".":
        raise UsageError(f"{raw!r} is not a file path", hint="pass paths relative to the repository root")
    return path


def decision_source(policy: Policy, decision: PathDecision) -> str | None:
    """Where the deciding pattern lives: the policy file, or the SECURITY_PATHS variable."""
    if decision.is_default:
        return None
    return decision.origin if decision.origin != "policy" else policy.source


def format_decision(policy: Policy, path: str, decision: PathDecision) -> str:
    shown = _escape(path)
    if decision.is_default:
        return f"default\t{shown}\t{decision.lane.value}"
    line = "" if decision.line is None else str(decision.line)
    where = f"{decision_source(policy, decision)}:{line}:{_escape(decision.pattern or '')}"
    return f"{where}\t{shown}\t{decision.lane.value} (rule {decision.rule})"


def _escape(text: str) -> str:
    """Control characters (tab, newline, ...) escaped, so one path is always one field of one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _json(policy: Policy, rows: list[tuple[str, PathDecision]]) -> dict[str, Any]:
    return {
        "version": 1,
        "policy": {"source": policy.source, "digest": policy.digest},
        "paths": [
            {
                "path": path,
                "lane": d.lane.value,
                "rule": d.rule,
                "pattern": d.pattern,
                "origin": d.origin,
                "source": decision_source(policy, d),
                "line": d.line,
            }
            for path, d in rows
        ],
    }
