"""Parse entries of GitHub's pull-request files API into a :class:`~reviewbot.models.Diff`.

Each entry has ``filename``, ``status`` (added, removed, modified, renamed,
copied, changed, unchanged), ``previous_filename`` for renames and copies,
and a ``patch`` that holds hunks only (no ``diff --git``/``---``/``+++``
header). GitHub leaves ``patch`` out for large and binary files: such a file
becomes a ``no-patch`` skipped item, so the caller can fetch it with a local
``git diff`` when a checkout is present.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from ..errors import DiffParseError
from ..models import Diff, FileDiff, FileStatus, SkippedItem, SkipReason
from .diagnose import explain_failure
from .hunks import is_submodule_bump, read_hunks, subproject_commits
from .language import guess_language
from .parse import split_lines

_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "modified": FileStatus.MODIFIED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.COPIED,
    "changed": FileStatus.MODIFIED,
    "unchanged": FileStatus.MODIFIED,
}
# unidiff needs a file header before the hunks; the names are never used.
_HEADER = ["--- a\n", "+++ b\n"]


def parse_github_files(files: Iterable[Mapping[str, Any]]) -> Diff:
    """A :class:`Diff` from the files API's entries, in the order given.

    A file without a ``patch`` (GitHub omits it for large or binary files) is
    skipped with reason ``no-patch``; so is a patch that does not parse, with
    the parse error as its detail. Deleted files are ``deleted-only``, renames
    and copies without changes ``rename-only``, submodule bumps ``submodule``.

    Raises:
        DiffParseError: an entry has no ``filename``.
    """
    out: list[FileDiff] = []
    skipped: list[SkippedItem] = []
    for number, entry in enumerate(files, 1):
        filename = entry.get("filename")
        if not isinstance(filename, str) or not filename:
            raise DiffParseError(
                f"GitHub files API: entry {number} has no filename",
                hint="pass the JSON objects of GET /repos/{owner}/{repo}/pulls/{number}/files",
            )
        item = _convert_entry(filename, entry, out)
        if item is not None:
            skipped.append(item)
    return Diff(files=tuple(out), skipped=tuple(sorted(skipped, key=SkippedItem.sort_key)))


def _convert_entry(filename: str, entry: Mapping[str, Any], out: list[FileDiff]) -> SkippedItem | None:
    raw_status = str(entry.get("status") or "modified")
    status = _STATUS.get(raw_status, FileStatus.MODIFIED)
    previous = entry.get("previous_filename")
    previous = previous if isinstance(previous, str) and previous else None
    old_path = previous if status in (FileStatus.RENAMED, FileStatus.COPIED) else None
    patch = entry.get("patch")
    changes = entry.get("changes")
    unchanged = isinstance(changes, int) and changes == 0

    if status is FileStatus.DELETED:
        return SkippedItem(filename, SkipReason.DELETED_ONLY, "file deleted")
    if not isinstance(patch, str) or not patch:
        if status in (FileStatus.RENAMED, FileStatus.COPIED) and unchanged:
            if status is FileStatus.RENAMED:
                return SkippedItem(filename, SkipReason.RENAME_ONLY, f"renamed from {previous} without changes")
            return SkippedItem(filename, SkipReason.COPY_ONLY, f"copied from {previous} without changes")
        if raw_status == "unchanged":
            return SkippedItem(filename, SkipReason.EMPTY, "GitHub lists the file as unchanged")
        if raw_status == "changed" and unchanged:
            return SkippedItem(filename, SkipReason.MODE_ONLY, "mode or type changed without content changes")
        return SkippedItem(
            filename,
            SkipReason.NO_PATCH,
            "GitHub omitted the patch (large or binary file); a local `git diff` can supply it",
        )

    lines = _HEADER + split_lines(patch)
    offset = len(_HEADER)
    language = guess_language(filename)
    try:
        try:
            patch_set = PatchSet(lines, metadata_only=True)
        except UnidiffParseError as exc:
            raise explain_failure(lines, "patch", str(exc), offset=offset) from None
        if not patch_set or not patch_set[0]:
            return SkippedItem(filename, SkipReason.NO_PATCH, "GitHub's patch holds no hunk")
        hunks = read_hunks(
            patch_set[0],
            lines,
            path=filename,
            old_path=old_path,
            status=status,
            language=language,
            origin="patch",
            offset=offset,
        )
    except DiffParseError as exc:
        why = exc.message.removeprefix("patch: ")
        return SkippedItem(
            filename,
            SkipReason.NO_PATCH,
            f"GitHub's patch does not parse: {why}; a local `git diff` can supply it",
        )
    if not hunks:
        return SkippedItem(filename, SkipReason.NO_PATCH, "GitHub's patch holds no hunk")
    if is_submodule_bump(hunks):
        old_sha, new_sha = subproject_commits(hunks)
        detail = f"submodule updated ({old_sha or '-'} -> {new_sha or '-'})"
        return SkippedItem(filename, SkipReason.SUBMODULE, detail)
    out.append(FileDiff(path=filename, old_path=old_path, status=status, hunks=hunks, language=language))
    return None
