"""Results of condensing dependency changes: frozen, sorted, each item placed on a manifest line."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    VERSION_CHANGED = "version-changed"  # versions that do not compare (a git ref, a range)
    SOURCE_CHANGED = "source-changed"  # now resolved from a git URL, a tarball, another registry
    INTEGRITY_CHANGED = "integrity-changed"  # hash changed without a version change
    CHANGED = "changed"  # other fields of the entry changed (install scripts, dependencies, ...)


@dataclass(frozen=True)
class DepChange:
    """One package whose resolution changed in one lockfile or manifest."""

    path: str  # the lockfile or manifest
    ecosystem: str  # npm, pypi, go, cargo, rubygems, composer
    name: str
    kind: ChangeKind
    old_version: str | None = None
    new_version: str | None = None
    old_source: str | None = None
    new_source: str | None = None
    line: int | None = None  # the line that names the package (new file; old file for a removal)
    old_side: bool = False  # True when ``line`` is a line of the old file
    detail: str = ""  # e.g. the fields that changed
    hunk_ids: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.path, self.name.lower(), self.kind.value, self.new_version or self.old_version or "")


@dataclass(frozen=True)
class FileNote:
    """Why some hunks of a file are sent raw instead of condensed (or anything else worth saying)."""

    path: str
    note: str
    hunk_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CondensedDeps:
    items: tuple[DepChange, ...] = ()
    notes: tuple[FileNote, ...] = ()
    covered: tuple[str, ...] = ()  # hunk ids fully represented by ``items`` (reviewed as condensed)
    raw: tuple[str, ...] = ()  # hunk ids of dependency files that must be reviewed as raw hunks
    files: tuple[str, ...] = field(default_factory=tuple)  # dependency files seen
