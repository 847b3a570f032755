"""`reviewbot route [--policy FILE] [--format text|json] (PATH... | --patch FILE)`: which rule sends what where.

Like ``git check-ignore -v``: ``<source>:<line>:<pattern>\\t<path>\\t<lane> (rule <name>)``, or
``default\\t<path>\\t<lane>`` when no pattern matched; ``<line>`` is the line of the pattern itself.
With ``--patch FILE`` (``-`` for standard input) it explains each hunk of a diff instead:
``<source>:<line>:<pattern>\\t<path> <hunk header>\\t<lane> (rule <name>)``, and for a content
rule a second line, indented, with the line that matched: ``    +<line no>: <text>``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK, UsageError
from ..models import Hunk
from ..policy import load_policy
from ..policy.model import Policy
from ..redact import Redactor
from ..router import HunkDecision, PathDecision, Router
from ..sources.patch import PatchSource


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "route",
        help="which rule sends each path to which lane",
        description="Print, for each path, the lane and the exact policy rule and pattern that decided it.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="repository-relative path")
    parser.add_argument(
        "--patch",
        metavar="FILE",
        help="explain each hunk of this diff ('-' reads standard input), content rules included",
    )
    parser.add_argument("--policy", type=Path, metavar="FILE", help="policy file (default: discovery)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cwd = Path.cwd()
    if bool(args.paths) == bool(args.patch):
        raise UsageError("give either paths or --patch FILE", hint="reviewbot route src/app.py, or --patch x.diff")
    policy = load_policy(args.policy, cwd=cwd, env=os.environ)
    router = Router(policy)
    if args.patch:
        return _run_patch(args, policy, router)
    rows = [(path, router.route_path(path)) for path in (_repo_path(p, cwd) for p in args.paths)]
    if args.format == "json":
        print(json.dumps(_json(policy, rows), sort_keys=True, indent=2))
    else:
        for path, decision in rows:
            print(format_decision(policy, path, decision))
    return EXIT_OK


def _run_patch(args: argparse.Namespace, policy: Policy, router: Router) -> int:
    diff = PatchSource(args.patch).read()
    rows = [(hunk, router.explain_hunk(hunk)) for hunk in diff.hunks]
    # The matched line is diff text: it leaves the process masked, like every other output.
    scrub = Redactor.from_config(policy.redaction).scrub
    if args.format == "json":
        print(json.dumps(_hunks_json(policy, rows, scrub), sort_keys=True, indent=2))
    else:
        for hunk, explained in rows:
            print(scrub(format_hunk(policy, hunk, explained)))
    return EXIT_OK


def format_hunk(policy: Policy, hunk: Hunk, explained: HunkDecision) -> str:
    """One line per hunk (two for a content rule: the matched line follows, indented)."""
    decision = explained.decision
    where = f"{_escape(hunk.path)} {hunk.header}"
    if explained.matched_path != hunk.path:
        where += f" [old path {_escape(explained.matched_path)}]"
    if decision.is_default:
        return f"default\t{where}\t{decision.lane.value}"
    line = "" if decision.line is None else str(decision.line)
    head = f"{decision_source(policy, decision)}:{line}:{_escape(decision.pattern or '')}"
    text = f"{head}\t{where}\t{decision.lane.value} (rule {decision.rule})"
    found = explained.content
    if found is not None:
        number = "" if found.line_no is None else str(found.line_no)
        text += f"\n    {found.kind}{number}: {_escape(found.line.strip())}"
    return text


def _hunks_json(
    policy: Policy, rows: list[tuple[Hunk, HunkDecision]], scrub: Callable[[str], str]
) -> dict[str, Any]:
    hunks = []
    for hunk, explained in rows:
        d, found = explained.decision, explained.content
        hunks.append(
            {
                "hunk": hunk.id,
                "path": scrub(hunk.path),
                "header": scrub(hunk.header),
                "lane": d.lane.value,
                "rule": d.rule,
                "pattern": d.pattern,
                "origin": d.origin,
                "source": decision_source(policy, d),
                "line": d.line,
                "matched_path": scrub(explained.matched_path),
                "matched_line": None
                if found is None
                else {"kind": found.kind, "line_no": found.line_no, "text": scrub(found.line)},
            }
        )
    return {"version": 1, "policy": {"source": policy.source, "digest": policy.digest}, "hunks": hunks}


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
