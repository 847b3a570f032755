"""The command line: a thin layer over the core. ``main(argv)`` is testable in-process.

Each sub-command lives in ``reviewbot/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a handler
``(args) -> int``. This module owns the single top-level error handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from . import __version__
from .errors import EXIT_USAGE, ReviewbotError

# Order is the order of `reviewbot --help`.
COMMAND_MODULES = (
    "diff",
    "probe",
    "route",
    "policy",
    "redact",
    "github",
    "audit",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own usage errors: one line, exit 2, like every other usage error.
        self.exit(EXIT_USAGE, f"error: {message}\nhint: see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reviewbot",
        description="Pre-merge security review of a diff: routing, a token budget, redaction, model lanes.",
    )
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks and debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.commands.{name}":
                continue  # command not built yet
            raise
        module.register(subparsers)
    _add_verbose(subparsers)
    return parser


def _add_verbose(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Accept ``--verbose`` after any sub-command too (``reviewbot diff --verbose``)."""
    for sub in set(subparsers.choices.values()):
        if "--verbose" not in sub._option_string_actions:
            sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks and debug logging")
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_verbose(action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(args)
        return code
    except ReviewbotError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
