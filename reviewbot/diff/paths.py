"""File names in diff headers: git's C-style quoting and the ``a/`` ``b/`` prefixes.

git quotes a path that holds a double quote, a backslash, a control character
or (with the default ``core.quotePath``) any non-ASCII byte, writing the bytes
as octal escapes: ``"a/r\\303\\251sum\\303\\251.txt"``. unidiff 1.0 keeps such
names quoted and undecoded, so we decode them here into real UTF-8 names.
"""

from __future__ import annotations

import re

DEV_NULL = "/dev/null"

_SIMPLE_ESCAPES = {
    "a": 0x07,
    "b": 0x08,
    "t": 0x09,
    "n": 0x0A,
    "v": 0x0B,
    "f": 0x0C,
    "r": 0x0D,
    '"': 0x22,
    "\\": 0x5C,
}
_OCTAL = frozenset("01234567")

# The one-letter prefixes git writes: a/ b/ by default, c/ i/ o/ w/ with
# diff.mnemonicPrefix, 1/ 2/ for `git diff --no-index`.
_PREFIX = re.compile(r"[abciow12]/")


def unquote(token: str) -> str:
    """Decode one git-quoted name (``"..."`` with C escapes); other names are returned as they are.

    Octal escapes are bytes of the UTF-8 name; invalid UTF-8 becomes U+FFFD,
    never an exception.
    """
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        return token
    body = token[1:-1]
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif len(body) >= i + 4 and all(c in _OCTAL for c in body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:  # not an escape git writes: keep the backslash literally
            out.append(0x5C)
            i += 1
    return out.decode("utf-8", errors="replace")


def _end_of_quoted(text: str) -> int:
    """Index just past the quoted token that starts ``text`` (``text[0] == '"'``), or -1."""
    i = 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        i += 1
    return -1


def split_git_header(rest: str) -> tuple[str, str] | None:
    """Split what follows ``diff --git `` into its two (still quoted, still prefixed) names.

    The header is ambiguous when names hold spaces: ``a/x b/y b/x b/y`` can be
    cut in two ways. Without a rename (whose names come from the ``rename
    from/to`` lines) both names are the same path, so the cut that yields two
    equal paths is the right one. Returns None when no cut is certain.
    """
    rest = rest.rstrip("\r\n")
    if rest.startswith('"'):
        end = _end_of_quoted(rest)
        if end < 0 or rest[end : end + 1] != " ":
            return None
        return rest[:end], rest[end + 1 :]
    if rest.endswith('"'):
        cut = rest.rfind(' "')
        if cut < 0:
            return None
        return rest[:cut], rest[cut + 1 :]
    n = len(rest)
    if n % 2 == 1:
        half = n // 2
        first, second = rest[:half], rest[half + 1 :]
        if rest[half] == " " and first[2:] == second[2:]:
            return first, second
    return None


def strip_prefixes(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Remove the ``a/`` ``b/`` style prefixes from a pair of names (either may be None for /dev/null).

    Both names lose their prefix when both carry one and the two prefixes
    differ (``a/`` and ``b/``); a ``--no-prefix`` diff of a directory named
    ``a`` keeps it, because both sides then start with the same ``a/``. A
    lone name loses ``a/`` (old side) or ``b/`` (new side). Plain ``diff -ruN
    old/ new/`` output loses its differing first directory.
    """
    if old is not None and new is not None:
        if _PREFIX.match(old) and _PREFIX.match(new) and old[0] != new[0]:
            return old[2:], new[2:]
        old_parts = old.split("/", 1)
        new_parts = new.split("/", 1)
        if (
            len(old_parts) == 2
            and len(new_parts) == 2
            and old_parts[0] != new_parts[0]
            and old_parts[1] == new_parts[1]
        ):
            return old_parts[1], new_parts[1]
        return old, new
    if old is not None and old.startswith("a/"):
        old = old[2:]
    if new is not None and new.startswith("b/"):
        new = new[2:]
    return old, new
