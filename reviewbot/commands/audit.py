"""`reviewbot audit verify FILE` and `reviewbot audit show FILE`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .. import audit
from ..errors import EXIT_OK, AuditError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="verify or show an audit log")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check the hash chain of an audit file")
    verify.add_argument("file", type=Path)
    verify.set_defaults(func=_verify)
    show = sub.add_parser("show", help="print the events of an audit file, one per line")
    show.add_argument("file", type=Path)
    show.set_defaults(func=_show)


def _verify(args: argparse.Namespace) -> int:
    result = audit.verify(args.file)
    if not result.ok:
        if result.line is None and result.events:
            raise AuditError(
                f"audit log incomplete: {result.error} ({result.events} events verified)",
                hint="a run that exits early (bad key, crash) leaves no run_end; otherwise the file was truncated",
            )
        where = f" at line {result.line}" if result.line else ""
        raise AuditError(
            f"audit chain broken{where}: {result.error} ({result.events} events verified before it)",
            hint="the file was edited, truncated or reordered after it was written",
        )
    print(f"ok: {result.events} events, hash chain intact")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    for number, record, problem in audit.iter_records(args.file):
        if record is None:
            print(f"{number}: <{problem}>")
            continue
        fields = {k: v for k, v in record.items() if k not in {"seq", "ts", "event", "prev", "hash"}}
        print(f"{record.get('seq')} {record.get('event')} {json.dumps(fields, sort_keys=True)}")
    return EXIT_OK
