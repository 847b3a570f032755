"""Which hunks of a change touch what changed since an earlier revision (DESIGN.md §5a).

The one rule for both callers: ``reviewbot diff --since REV`` (:func:`select_touched`)
and the Action's re-review (:func:`reviewbot.github.incremental.select_hunks`).

The unit reviewed stays the change's own hunk (``base...head``, with its context);
a second diff, the *delta* (``since..head``; on GitHub the compare ``last...head``),
with the same new side, only selects among them. A hunk is selected when:

* the delta added a line (by its new-side number) anywhere in the hunk's new-side
  range, context lines included. The model is sent the hunk with its context, so a
  hunk whose shown code changed is reviewed again: a push that reverts one of the
  change's lines to the base (it becomes context), or a merge of the base branch that
  edits a line of the hunk's context. A merge selects nothing of the base's own hunks:
  they are not hunks of the change;
* the delta *purely* removed lines (a ``-`` run not replaced by ``+`` lines) at a
  position inside the hunk or at one of its edges. An edit counts by its added lines
  only, so it is the same on both sides of a hunk;
* the delta changed the file in a way not visible line by line (renamed or copied,
  no patch, mode only): every hunk of that file, since nothing says which it spared.

Both diffs must have the same new side (the working tree, the index, or a commit):
then an added line of the delta has the same number in both.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..models import Diff, FileDiff, FileStatus, Hunk, SkippedItem, SkipReason

# A delta file set aside for one of these reasons changed in a way we cannot see line by line.
_OPAQUE = frozenset({SkipReason.NO_PATCH, SkipReason.RENAME_ONLY, SkipReason.COPY_ONLY, SkipReason.MODE_ONLY})


@dataclass(frozen=True)
class Changes:
    """Where the delta changed each file, in new-side numbers (sorted, for range look-ups)."""

    added: Mapping[str, tuple[int, ...]]  # the lines it added
    gaps: Mapping[str, tuple[int, ...]]  # p: lines were purely removed right after new line p (0: before line 1)
    whole: frozenset[str]  # paths changed in a way not visible per line (renamed, copied, no patch, mode)


def _before(hunk: Hunk) -> int:
    """The new-side line right before the hunk: ``+n,0`` names it, ``+n,m`` starts after it."""
    return hunk.new_start - 1 if hunk.new_len else hunk.new_start


def changes_since(delta: Diff) -> Changes:
    """Per new path, the lines the delta added, the positions where it purely removed lines, and opaque files."""
    added: dict[str, set[int]] = {}
    gaps: dict[str, set[int]] = {}
    whole: set[str] = set()
    for f in delta.files:
        if f.status in (FileStatus.RENAMED, FileStatus.COPIED):
            whole.add(f.path)
        for h in f.hunks:
            plus = added.setdefault(h.path, set())
            cut = gaps.setdefault(h.path, set())
            last = _before(h)
            removed_after: int | None = None  # a `-` run is pending, right after this new line
            for ln in h.lines:
                if ln.kind == "-":
                    if removed_after is None:
                        removed_after = last
                    continue
                if ln.new_no is None:
                    continue
                if ln.kind == "+":
                    plus.add(ln.new_no)  # a pending `-` run replaced by `+` lines is an edit, not a gap
                elif removed_after is not None:
                    cut.add(removed_after)
                removed_after = None
                last = ln.new_no
            if removed_after is not None:
                cut.add(removed_after)
    for s in delta.skipped:
        if s.hunk_id is None and s.reason in _OPAQUE:
            whole.add(s.path)
    return Changes(
        {p: tuple(sorted(v)) for p, v in added.items() if v},
        {p: tuple(sorted(v)) for p, v in gaps.items() if v},
        frozenset(whole),
    )


def _any_within(values: tuple[int, ...], lo: int, hi: int) -> bool:
    i = bisect_left(values, lo)
    return i < len(values) and values[i] <= hi


def touches(hunk: Hunk, changes: Changes) -> bool:
    """True when the delta changed a line the hunk shows, purely removed lines in it or at its edges,
    or changed its file in a way not visible per line."""
    if hunk.path in changes.whole:
        return True
    before = _before(hunk)
    after = before + hunk.new_len  # the hunk's last new-side line (``before`` for a pure deletion)
    if _any_within(changes.added.get(hunk.path, ()), before + 1, after):
        return True
    return _any_within(changes.gaps.get(hunk.path, ()), before, after)


def select_touched(diff: Diff, delta: Diff, *, detail: str) -> Diff:
    """``diff`` with only the hunks the delta touches; the others move to ``skipped`` with ``detail``.

    Files set aside whole (binary, deleted, ...) stay as they were; a file none of whose
    hunks is selected is left out of ``files``, its hunks accounted for in ``skipped``.
    """
    changes = changes_since(delta)
    files: list[FileDiff] = []
    skipped: list[SkippedItem] = list(diff.skipped)
    for f in diff.files:
        keep = tuple(h for h in f.hunks if touches(h, changes))
        kept = {h.id for h in keep}
        skipped.extend(_skips((h for h in f.hunks if h.id not in kept), detail))
        if keep:
            files.append(FileDiff(f.path, f.old_path, f.status, keep, f.is_binary, f.language))
    return Diff(files=tuple(files), skipped=tuple(sorted(skipped, key=SkippedItem.sort_key)))


def _skips(hunks: Iterable[Hunk], detail: str) -> list[SkippedItem]:
    return [SkippedItem(h.path, SkipReason.UNCHANGED_SINCE, detail, hunk_id=h.id) for h in hunks]
