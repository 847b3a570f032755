"""The common shape every lockfile parser produces: package entries seen on one side of a hunk.

A lockfile diff shows only the changed regions, so parsers never see a whole file. Each hunk is
read twice, as its old side (context and removed lines) and its new side (context and added
lines); a parser turns a side into the package entries it can see and says which changed lines it
could not attribute to any entry (those hunks are then sent raw, with a note).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import Hunk


@dataclass(frozen=True, slots=True)
class SideLine:
    text: str
    number: int | None  # line number in that side's file
    changed: bool  # an added (new side) or removed (old side) line


@dataclass
class Entry:
    """One package block (or requirement line) as visible on one side of one hunk."""

    key: str  # identity for pairing old and new within a file
    name: str
    version: str | None = None
    source: str | None = None
    integrity: str | None = None
    other: dict[str, str] = field(default_factory=dict)  # other fields, as text
    line: int | None = None  # the line naming the package
    changed: bool = False  # one of its lines is a changed line
    pseudo: bool = False  # not a package (metadata, importers): attributed, never reported
    partial: bool = False  # only some lines of a package (its files), named from a file name

    def fields(self) -> dict[str, str | None]:
        return {"version": self.version, "source": self.source, "integrity": self.integrity, **self.other}


@dataclass
class SideResult:
    entries: list[Entry] = field(default_factory=list)
    unattributed: list[SideLine] = field(default_factory=list)  # changed lines outside any entry

    def lost(self, line: SideLine) -> None:
        """A changed line this parser cannot attribute to a package entry."""
        if line.changed and not is_noise(line.text):
            self.unattributed.append(line)


SideParser = Callable[[list[SideLine]], SideResult]


def sides(hunk: Hunk) -> tuple[list[SideLine], list[SideLine]]:
    """The old side (context and removed lines) and the new side (context and added lines)."""
    old = [SideLine(ln.text, ln.old_no, ln.kind == "-") for ln in hunk.lines if ln.kind in (" ", "-")]
    new = [SideLine(ln.text, ln.new_no, ln.kind == "+") for ln in hunk.lines if ln.kind in (" ", "+")]
    return old, new


def is_noise(text: str) -> bool:
    """Blank lines and lone brackets carry no package information."""
    return not text.strip(" \t{}[](),;")


def indent_of(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))
