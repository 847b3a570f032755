"""The diff model: git diffs, plain unified diffs and GitHub files-API patches as a Diff."""

from __future__ import annotations

from .github import parse_github_files
from .language import guess_language
from .parse import parse_diff

__all__ = ["guess_language", "parse_diff", "parse_github_files"]
