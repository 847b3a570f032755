"""Condensed dependency changes: lockfile and manifest hunks as a short list of package changes."""

from .condense import compare_versions, condense, source_identity
from .files import dependency_kind, is_dependency_file
from .model import ChangeKind, CondensedDeps, DepChange, FileNote
from .render import render_condensed, render_item

__all__ = [
    "ChangeKind",
    "CondensedDeps",
    "DepChange",
    "FileNote",
    "compare_versions",
    "condense",
    "dependency_kind",
    "is_dependency_file",
    "render_condensed",
    "render_item",
    "source_identity",
]
