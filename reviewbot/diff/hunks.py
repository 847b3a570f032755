"""Read hunk bodies into our frozen :class:`~reviewbot.models.Hunk` values.

unidiff parses the patch with ``metadata_only=True``: it checks every hunk
against its header and gives us files, ranges and section headers, without
building one object per line. We then read each hunk's lines once, straight
from the patch text. This is the hot path of the offline pipeline, so it does
plain string indexing only: no regular expression, nothing quadratic.
"""

from __future__ import annotations

from collections.abc import Sequence

from unidiff.patch import PatchedFile

from ..errors import DiffParseError
from ..models import DiffLine, FileStatus, Hunk, HunkLines, hunk_id

_SUBPROJECT = "Subproject commit "
_BLANK = ("\n", "\r\n", "\r")
_HINT = "a hunk's line counts must match its @@ header"


def read_hunks(
    patched_file: PatchedFile,
    lines: Sequence[str],
    *,
    path: str,
    old_path: str | None,
    status: FileStatus,
    language: str | None,
    origin: str,
    offset: int = 0,
) -> tuple[Hunk, ...]:
    """Our hunks for one file, in diff order, read from ``lines`` (the whole patch, split on ``\\n``).

    Line text loses its line ending (``\\n``, and the ``\\r`` of a CRLF file);
    everything else is kept as written. The ``\\ No newline at end of file``
    marker is not content and is not kept. The id is ``hunk_id(path,
    canonical header, body)``, so the same hunk gets the same id from a git
    diff and from GitHub's files API.

    Raises:
        DiffParseError: a ``+``/``-``/space line follows a hunk whose header
            declared fewer lines (unidiff would file it away as "patch info"
            and the code would be lost). ``offset`` is subtracted from the
            line numbers in the message.
    """
    out: list[Hunk] = []
    n = len(lines)
    i = (patched_file.diff_line_no or 1) - 1
    for h in patched_file:
        while i < n and not lines[i].startswith("@@ -"):
            i += 1
        if i >= n:  # cannot happen after unidiff accepted the hunk; never index past the end
            raise DiffParseError(f"{origin}: hunk {h.source_start},{h.target_start} not found", hint=_HINT)
        header_no = i + 1
        i += 1
        old_no = h.source_start
        new_no = h.target_start
        old_left = h.source_length
        new_left = h.target_length
        fast = _plain_hunk(lines, i, h.source_length, h.added, h.removed)
        id_text: str | None = None
        body: list[DiffLine] = []
        if fast is not None:  # its text is its body: the lines are made only if asked for
            seg, id_text = fast
            i += len(seg)
            old_left = new_left = 0
        parts: list[str] = []
        while old_left > 0 or new_left > 0:
            raw = lines[i]
            i += 1
            kind = raw[:1]
            text = raw[1:]
            if text[-1:] == "\n":
                text = text[:-1]
            if text[-1:] == "\r":
                text = text[:-1]
            if kind == "+":
                body.append(DiffLine("+", text, None, new_no))
                new_no += 1
                new_left -= 1
            elif kind == "-":
                body.append(DiffLine("-", text, old_no, None))
                old_no += 1
                old_left -= 1
            elif kind == "\\":
                continue  # "\ No newline at end of file"
            else:  # " ", or a blank line some tools write for an empty context line
                if kind != " ":  # the whole line is its text (minus the line ending)
                    text = raw[:-1] if raw[-1:] == "\n" else raw
                    kind = " "
                body.append(DiffLine(" ", text, old_no, new_no))
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
            parts.append(kind + text)
        _check_end(lines, i, n, origin, header_no, offset)
        if not body and not id_text:
            continue  # "@@ -1,0 +1,0 @@": a header with no line, nothing to review or lose
        old_start = h.source_start
        old_len = h.source_length
        new_start = h.target_start
        new_len = h.target_length
        header = f"@@ -{old_start},{old_len} +{new_start},{new_len} @@"
        out.append(
            Hunk(
                id=hunk_id(path, header, id_text if id_text is not None else "\n".join(parts) + "\n"),
                path=path,
                old_path=old_path,
                status=status,
                old_start=old_start,
                old_len=old_len,
                new_start=new_start,
                new_len=new_len,
                section=h.section_header.strip(),
                lines=HunkLines(id_text, old_start, new_start) if id_text else tuple(body),
                commentable=frozenset(range(new_start, new_start + new_len)),
                language=language,
            )
        )
    return tuple(out)


def _plain_hunk(
    lines: Sequence[str], i: int, old_len: int, added: int, removed: int
) -> tuple[Sequence[str], str] | None:
    """The hunk's lines from ``lines[i]`` on, and their text, when they are all plain; else None
    (the general loop reads it).

    Plain: each line a ``+``, ``-`` or space marker, its text, and ``\\n`` (no CR, no blank
    line, no ``\\ No newline`` marker), and as many of each kind as unidiff counted in this
    hunk. Such a hunk is exactly the next ``old_len + added`` lines; the check runs on their
    joined text, in C.
    """
    n = old_len + added
    seg = lines[i : i + n]
    if len(seg) != n:
        return None
    joined = "".join(seg)
    if joined.count("\n") != n or "\r" in joined or "\n\n" in joined or "\n\\" in joined:
        return None
    first = joined[:1]
    plus = joined.count("\n+") + (first == "+")
    minus = joined.count("\n-") + (first == "-")
    space = joined.count("\n ") + (first == " ")
    # The last "\n" ends the text, so the counts see the markers of exactly the n lines.
    if plus != added or minus != removed or plus + minus + space != n:
        return None
    return seg, joined


def _check_end(lines: Sequence[str], i: int, n: int, origin: str, header_no: int, offset: int) -> None:
    """Refuse a hunk line right after a hunk that is already complete (past any marker or blank line)."""
    while i < n and (lines[i][:1] == "\\" or lines[i] in _BLANK):
        i += 1
    if i >= n:
        return
    follow = lines[i]
    if follow[:1] not in ("+", "-", " ") or follow.startswith(("--- ", "+++ ")):
        return
    if follow.rstrip("\r\n") in ("--", "-- "):
        return  # the signature separator of `git format-patch`
    raise DiffParseError(
        f"{origin}: hunk at line {header_no - offset} has more lines than its header declares (line {i + 1 - offset})",
        hint=_HINT,
    )


def is_submodule_bump(hunks: Sequence[Hunk]) -> bool:
    """True when the only content is git's ``Subproject commit <sha>`` lines (a gitlink change)."""
    if len(hunks) != 1 or not 0 < len(hunks[0].lines) <= 2:
        return False
    return all(ln.text.startswith(_SUBPROJECT) for ln in hunks[0].lines)


def subproject_commits(hunks: Sequence[Hunk]) -> tuple[str | None, str | None]:
    """The old and new commit (abbreviated) of a submodule change; either may be None."""
    old = new = None
    for h in hunks:
        for ln in h.lines:
            if ln.text.startswith(_SUBPROJECT):
                sha = ln.text[len(_SUBPROJECT) :].strip()[:12]
                if ln.kind == "-":
                    old = sha
                elif ln.kind == "+":
                    new = sha
    return old, new
