"""Parse a git diff or a plain unified diff into a :class:`~reviewbot.models.Diff`.

Built on :class:`unidiff.PatchSet`. On top of it this module decodes bytes
without ever failing (invalid UTF-8 becomes U+FFFD), decodes git's quoted
file names, tells renames from copies, and turns every file that cannot be
reviewed (binary, deleted, mode-only, rename-only, empty, submodule) into a
:class:`~reviewbot.models.SkippedItem` with its reason. Nothing is dropped
silently: a patch that is not a diff, or whose hunks do not match their
headers, raises :class:`~reviewbot.errors.DiffParseError`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from unidiff.constants import (
    RE_DIFF_GIT_HEADER,
    RE_DIFF_GIT_HEADER_NO_PREFIX,
    RE_DIFF_GIT_HEADER_URI_LIKE,
    RE_TARGET_FILENAME,
)
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from ..errors import DiffParseError
from ..gcpause import paused_gc
from ..models import Diff, FileDiff, FileStatus, Hunk, SkippedItem, SkipReason
from .diagnose import explain_failure
from .hunks import is_submodule_bump, read_hunks, subproject_commits
from .language import guess_language
from .paths import DEV_NULL, split_git_header, strip_prefixes, unquote

_GIT_HEADER = "diff --git "
_SUBMODULE_MODE = "160000"


def decode(data: bytes | str) -> str:
    """Text of a patch: UTF-8 with invalid bytes replaced (never an error), without a BOM."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def split_lines(text: str) -> list[str]:
    """Lines split on ``\\n`` only (a lone ``\\r`` or U+2028 is content), CRLF endings made LF.

    Hunk text loses its line ending anyway; making CRLF into LF first also lets
    a patch saved with Windows line endings keep its headers (``/dev/null``,
    file names) intact.
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return io.StringIO(text, newline="\n").readlines()


@paused_gc
def parse_diff(data: bytes | str, *, origin: str = "patch") -> Diff:
    """Parse ``git diff`` output or a plain unified diff.

    Empty or whitespace-only input is an empty :class:`Diff`, not an error.
    ``origin`` names the input in error messages (a file name, ``<stdin>``).

    Raises:
        DiffParseError: the input is not a diff, or a hunk is truncated or
            longer than its header declares. The message is one line that
            names ``origin`` and the line at fault.
    """
    text = decode(data)
    if not text or text.isspace():
        return Diff(files=())
    lines = split_lines(text)
    patch, lines = _patchset(lines, origin)
    if not patch:
        raise DiffParseError(
            f"{origin}: not a unified diff (no file header or hunk found)",
            hint="pass the output of `git diff` or `diff -u`",
        )
    files: list[FileDiff] = []
    skipped: list[SkippedItem] = []
    for patched_file in patch:
        _convert_file(patched_file, lines, origin, files, skipped)
    return Diff(files=tuple(files), skipped=tuple(sorted(skipped, key=SkippedItem.sort_key)))


def _patchset(lines: list[str], origin: str) -> tuple[PatchSet, list[str]]:
    """unidiff's view of the patch (files, hunk ranges; no line objects) and the lines it read."""
    try:
        return PatchSet(lines, metadata_only=True), lines
    except UnidiffParseError as exc:
        message = str(exc)
        if message.startswith("Target without source"):
            repaired = _repair_ambiguous_targets(lines)
            if repaired is not None:
                try:
                    return PatchSet(repaired, metadata_only=True), repaired
                except UnidiffParseError as again:
                    message = str(again)
        raise explain_failure(lines, origin, message) from None


def _unidiff_git_target(header_line: str) -> str | None:
    for regex in (RE_DIFF_GIT_HEADER, RE_DIFF_GIT_HEADER_URI_LIKE, RE_DIFF_GIT_HEADER_NO_PREFIX):
        match = regex.match(header_line)
        if match:
            return match.group("target")
    return None


def _repair_ambiguous_targets(lines: list[str]) -> list[str] | None:
    """Work around unidiff splitting ``diff --git a/x b/y b/x b/y`` at the wrong space.

    unidiff then finds that the ``+++`` name differs from the header's and
    refuses the patch. We rewrite only such ``+++`` lines to the name unidiff
    expects; file names are taken from the untouched ``diff --git`` line later
    (:func:`split_git_header`), so nothing is lost.
    """
    repaired = list(lines)
    changed = False
    expected: str | None = None
    for i, line in enumerate(lines):
        if line.startswith(_GIT_HEADER):
            expected = _unidiff_git_target(line)
        elif line.startswith("+++ ") and expected is not None:
            match = RE_TARGET_FILENAME.match(line)
            if match and match.group("filename") not in (expected, DEV_NULL):
                repaired[i] = f"+++ {expected}\n"
                changed = True
            expected = None
        elif line.startswith("@@ "):
            expected = None
    return repaired if changed else None


def _git_names(patched_file: PatchedFile, header: str) -> tuple[str | None, str | None]:
    tokens = split_git_header(header[len(_GIT_HEADER) :])
    if tokens is None:
        tokens = (patched_file.source_file, patched_file.target_file)
    old, new = strip_prefixes(unquote(tokens[0]), unquote(tokens[1]))
    return old, new


def _convert_file(
    patched_file: PatchedFile,
    lines: list[str],
    origin: str,
    files: list[FileDiff],
    skipped: list[SkippedItem],
) -> None:
    info = patched_file.patch_info
    header = info[0] if info and info[0].startswith(_GIT_HEADER) else None
    is_new = patched_file.source_file == DEV_NULL
    is_deleted = patched_file.target_file == DEV_NULL
    rename_from = rename_to = copy_from = copy_to = None
    old_mode = new_mode = None
    if header is not None and info is not None:
        old, new = _git_names(patched_file, header)
        for line in info:
            if line.startswith("rename from "):
                rename_from = unquote(line[12:].rstrip("\r\n"))
            elif line.startswith("rename to "):
                rename_to = unquote(line[10:].rstrip("\r\n"))
            elif line.startswith("copy from "):
                copy_from = unquote(line[10:].rstrip("\r\n"))
            elif line.startswith("copy to "):
                copy_to = unquote(line[8:].rstrip("\r\n"))
            elif line.startswith("old mode "):
                old_mode = line[9:].strip()
            elif line.startswith("new mode "):
                new_mode = line[9:].strip()
        old = rename_from or copy_from or old
        new = rename_to or copy_to or new
    else:
        old, new = strip_prefixes(
            None if is_new else unquote(patched_file.source_file),
            None if is_deleted else unquote(patched_file.target_file),
        )
    if is_new:
        old = None
    if is_deleted:
        new = None

    if is_new:
        status = FileStatus.ADDED
    elif is_deleted:
        status = FileStatus.DELETED
    elif copy_from is not None:
        status = FileStatus.COPIED
    elif rename_from is not None or (old is not None and new is not None and old != new):
        status = FileStatus.RENAMED
    else:
        status = FileStatus.MODIFIED
    path = new if new is not None else (old or "")
    old_path = old if status in (FileStatus.RENAMED, FileStatus.COPIED, FileStatus.DELETED) else None

    if _SUBMODULE_MODE in (patched_file.source_mode, patched_file.target_mode):
        hunks = read_hunks(
            patched_file, lines, path=path, old_path=old_path, status=status, language=None, origin=origin
        )
        skipped.append(SkippedItem(path, SkipReason.SUBMODULE, _submodule_detail(status, hunks)))
        return
    reason, detail = _why_not_reviewable(patched_file, status, old_path=old_path, old_mode=old_mode, new_mode=new_mode)
    if reason is not None:
        skipped.append(SkippedItem(path=path, reason=reason, detail=detail))
        return
    language = guess_language(path)
    hunks = read_hunks(
        patched_file, lines, path=path, old_path=old_path, status=status, language=language, origin=origin
    )
    if is_submodule_bump(hunks):
        skipped.append(SkippedItem(path, SkipReason.SUBMODULE, _submodule_detail(status, hunks)))
        return
    if not hunks:
        skipped.append(SkippedItem(path, SkipReason.EMPTY, "no content changes"))
        return
    files.append(FileDiff(path=path, old_path=old_path, status=status, hunks=hunks, language=language))


def _why_not_reviewable(
    patched_file: PatchedFile,
    status: FileStatus,
    *,
    old_path: str | None,
    old_mode: str | None,
    new_mode: str | None,
) -> tuple[SkipReason | None, str]:
    """The reason a file has nothing to review, or ``(None, "")`` when its hunks are reviewable."""
    if status is FileStatus.DELETED:
        kind = "binary file" if patched_file.is_binary_file else "file"
        return SkipReason.DELETED_ONLY, f"{kind} deleted"
    if patched_file.is_binary_file:
        return (
            SkipReason.BINARY,
            "binary file changed" if status is not FileStatus.ADDED else "binary file added",
        )
    if len(patched_file):
        return None, ""
    mode_note = f"; mode {old_mode} -> {new_mode}" if old_mode and new_mode else ""
    if status is FileStatus.ADDED:
        return SkipReason.EMPTY, "new empty file"
    if status is FileStatus.RENAMED:
        return SkipReason.RENAME_ONLY, f"renamed from {old_path} without changes{mode_note}"
    if status is FileStatus.COPIED:
        return SkipReason.COPY_ONLY, f"copied from {old_path} without changes{mode_note}"
    if old_mode and new_mode:
        return SkipReason.MODE_ONLY, f"mode changed from {old_mode} to {new_mode}"
    return SkipReason.EMPTY, "no content changes"


def _submodule_detail(status: FileStatus, hunks: Sequence[Hunk]) -> str:
    verb = {FileStatus.ADDED: "added", FileStatus.DELETED: "removed"}.get(status, "updated")
    old_sha, new_sha = subproject_commits(hunks)
    span = f" ({old_sha or '-'} -> {new_sha or '-'})" if old_sha or new_sha else ""
    return f"submodule {verb}{span}"
