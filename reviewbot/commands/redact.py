"""`reviewbot redact [FILE|-] [--format text|json] [--no-pii]`: mask a file, or list what it holds.

Exit 0 when nothing was found, 1 when something was (usable as a pre-commit check),
2 when the input cannot be read. JSON output never holds a value: kind, line, columns
(1-based, end exclusive) and placeholder only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_FINDINGS, EXIT_OK, InputError
from ..redact import Redactor


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "redact",
        help="mask secrets and personal data in a file (exit 1 when any is found)",
        description="Print FILE (or stdin) with secrets and personal data masked, or list what was found.",
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="file to read (default: stdin)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="masked text or JSON spans")
    parser.add_argument("--no-pii", action="store_true", help="mask secrets only, not personal data")
    parser.set_defaults(func=_run)


def _read(name: str) -> str:
    if name == "-":
        try:
            data = sys.stdin.buffer.read()
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read stdin: {exc}", hint="pipe text in, or give a FILE") from None
    else:
        path = Path(name)
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise InputError(f"{name} is a directory", hint="give a file, or - for stdin") from None
        except OSError as exc:
            raise InputError(
                f"cannot read {name}: {exc.strerror or exc}", hint="check the path and its permissions"
            ) from None
    return data.decode("utf-8", errors="replace")


def _run(args: argparse.Namespace) -> int:
    text = _read(args.file)
    result = Redactor(pii=not args.no_pii).redact(text)
    if args.format == "json":
        items = sorted(
            (r.as_dict() for r in result.redactions),
            key=lambda d: (d["line"], d["start_col"], d["kind"]),
        )
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
    else:
        sys.stdout.write(result.text)
    sys.stdout.flush()
    return EXIT_FINDINGS if result.redactions else EXIT_OK
