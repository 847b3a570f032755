"""One-line explanations of why a patch does not parse, with the line that is wrong.

unidiff's errors say what went wrong but not where; this runs only after a
failure, so it may be simple rather than fast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import DiffParseError

_HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_HINT = "pass the output of `git diff` or `diff -u`; a hunk's line counts must match its @@ header"


def _error(origin: str, what: str) -> DiffParseError:
    return DiffParseError(f"{origin}: {what}", hint=_HINT)


def _line_no_of(lines: Sequence[str], text: str) -> int | None:
    for i, line in enumerate(lines):
        if line.rstrip("\r\n") == text:
            return i + 1
    return None


def explain_failure(lines: Sequence[str], origin: str, message: str, *, offset: int = 0) -> DiffParseError:
    """A :class:`DiffParseError` for a patch unidiff refused, naming the line at fault.

    ``offset`` is subtracted from every line number (lines the caller prepended).
    """
    scan = _scan_hunks(lines, origin, offset)
    if scan is not None:
        return scan
    # Errors that carry the offending line ("Unexpected hunk found: @@ ...").
    head, _, culprit = message.partition(": ")
    culprit = culprit.rstrip("\r\n")
    line_no = _line_no_of(lines, culprit) if culprit else None
    where = f" at line {line_no - offset}" if line_no else ""
    friendly = {
        "Unexpected hunk found": "hunk without a file header",
        "Target without source": "'+++' file header without a matching '---' header",
        "Unexpected new file found": "'new file mode' outside a file header",
        "Unexpected deleted file found": "'deleted file mode' outside a file header",
        "Unexpected marker": "'\\ No newline at end of file' outside a hunk",
        "Unexpected binary patch marker": "'GIT binary patch' outside a file header",
    }.get(head.strip(), "cannot parse the patch")
    first = message.splitlines()[0] if message else ""
    detail = "" if head.strip() in _KNOWN else f" ({first[:120]})"
    return _error(origin, f"{friendly}{where}{detail}")


_KNOWN = frozenset(
    {
        "Unexpected hunk found",
        "Target without source",
        "Unexpected new file found",
        "Unexpected deleted file found",
        "Unexpected marker",
        "Unexpected binary patch marker",
    }
)


def _scan_hunks(lines: Sequence[str], origin: str, offset: int) -> DiffParseError | None:
    """Walk every hunk like a patch tool would; report the first one whose body does not fit its header."""
    i = 0
    n = len(lines)
    while i < n:
        match = _HUNK_HEADER.match(lines[i])
        i += 1
        if match is None:
            continue
        header_no = i - offset
        old_left = int(match.group(2)) if match.group(2) is not None else 1
        new_left = int(match.group(4)) if match.group(4) is not None else 1
        while old_left > 0 or new_left > 0:
            if i >= n:
                return _error(
                    origin,
                    f"truncated hunk at line {header_no}: expected {_more(old_left, new_left)}",
                )
            first = lines[i][:1]
            if first == "+":
                new_left -= 1
            elif first == "-":
                old_left -= 1
            elif first in (" ", "\n", "\r"):
                old_left -= 1
                new_left -= 1
            elif first != "\\":
                return _error(
                    origin,
                    f"truncated hunk at line {header_no}: expected {_more(old_left, new_left)} "
                    f"before line {i + 1 - offset}",
                )
            if old_left < 0 or new_left < 0:
                return _overlong(origin, header_no, i + 1 - offset)
            i += 1
    return None


def _more(old_left: int, new_left: int) -> str:
    missing = max(old_left, new_left)
    return "1 more line" if missing == 1 else f"{missing} more lines"


def _overlong(origin: str, header_no: int, line_no: int) -> DiffParseError:
    return _error(origin, f"hunk at line {header_no} has more lines than its header declares (line {line_no})")
