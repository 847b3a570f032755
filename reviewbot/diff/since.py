"""Keep the hunks of a change that touch what changed since an earlier revision (DESIGN.md §5a).

The unit reviewed stays the change's own hunk (``base...head``, with its context);
a second diff, the *delta* (``since..head``, new side in the same coordinates),
only selects among them. A hunk is selected when the delta added a line inside
its new-side range, or removed lines at a position inside it or at its edges (a
pure deletion counts for the hunk at that position). Everything else is not
dropped but returned as skipped with :attr:`SkipReason.UNCHANGED_SINCE`, so that
"nothing reviewed" never looks like "nothing found".

Both diffs must have the same new side (the working tree, the index, or a
commit): then an added line of the delta has the same number in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import Diff, FileDiff, Hunk, SkippedItem, SkipReason


@dataclass(frozen=True)
class Touched:
    """Where the delta changed one file, in new-side numbers."""

    lines: frozenset[int]  # added lines
    gaps: frozenset[int]  # p: lines were removed right after new line p (0: before line 1)


def touched(delta: Diff) -> dict[str, Touched]:
    """Per new path, the lines the delta added and the positions where it removed lines."""
    lines: dict[str, set[int]] = {}
    gaps: dict[str, set[int]] = {}
    for h in delta.hunks:
        added = lines.setdefault(h.path, set())
        removed = gaps.setdefault(h.path, set())
        last = h.new_start - 1 if h.new_len else h.new_start  # "+n,0" names the line before the gap
        for ln in h.lines:
            if ln.new_no is not None:
                last = ln.new_no
                if ln.kind == "+":
                    added.add(ln.new_no)
            elif ln.kind == "-":
                removed.add(last)
    return {p: Touched(frozenset(lines[p]), frozenset(gaps.get(p, ()))) for p in lines}


def hunk_is_touched(hunk: Hunk, where: Touched | None) -> bool:
    """True when the delta added a line in the hunk's new range or removed lines at a position in it."""
    if where is None:
        return False
    if hunk.new_len:
        first, last = hunk.new_start, hunk.new_start + hunk.new_len - 1
        if any(first <= n <= last for n in where.lines):
            return True
        return any(first - 1 <= g <= last for g in where.gaps)
    return hunk.new_start in where.gaps  # a pure deletion after line new_start


def select_touched(diff: Diff, delta: Diff, *, detail: str) -> Diff:
    """``diff`` with only the hunks the delta touches; the others move to ``skipped`` with ``detail``.

    Files set aside whole (binary, deleted, ...) stay as they were; a file none of whose
    hunks is selected is left out of ``files``, its hunks accounted for in ``skipped``.
    """
    where = touched(delta)
    files: list[FileDiff] = []
    skipped: list[SkippedItem] = list(diff.skipped)
    for f in diff.files:
        keep = tuple(h for h in f.hunks if hunk_is_touched(h, where.get(h.path)))
        kept = {h.id for h in keep}
        skipped.extend(_skips((h for h in f.hunks if h.id not in kept), detail))
        if keep:
            files.append(FileDiff(f.path, f.old_path, f.status, keep, f.is_binary, f.language))
    return Diff(files=tuple(files), skipped=tuple(sorted(skipped, key=SkippedItem.sort_key)))


def _skips(hunks: Iterable[Hunk], detail: str) -> list[SkippedItem]:
    return [SkippedItem(h.path, SkipReason.UNCHANGED_SINCE, detail, hunk_id=h.id) for h in hunks]
