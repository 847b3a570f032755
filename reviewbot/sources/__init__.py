"""Diff sources: a patch file or standard input, a local git checkout."""

from __future__ import annotations

from .git import GitSource
from .interface import DiffSource
from .patch import PatchSource

__all__ = ["DiffSource", "GitSource", "PatchSource"]
