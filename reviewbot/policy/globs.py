"""Gitignore-style path patterns: validation and compilation, shared by the loader and the router.

We use pathspec's :class:`~pathspec.GitIgnoreSpec` (pathspec >= 1.0; the old ``"gitwildmatch"``
factory is deprecated there and warns). It replicates what ``git check-ignore`` does, so a
pattern means in a policy what it means in a ``.gitignore``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable gitignore pattern, or None when it is.

    Beyond what pathspec rejects, a pattern that compiles to "match nothing" (empty, a comment,
    an unclosed ``[``) is an error: in a policy it would silently route nothing.
    """
    if not pattern.strip():
        return "empty pattern"
    if pattern != pattern.strip():
        return "leading or trailing whitespace (gitignore would strip or keep it silently)"
    if pattern.startswith("#"):
        return "starts with '#', which gitignore reads as a comment (escape it as '\\#')"
    try:
        compiled = GitIgnoreSpecPattern(pattern)
    except (GitIgnorePatternError, re.error, ValueError) as exc:
        return f"not a valid gitignore pattern ({exc})"
    if compiled.include is None:
        return "matches nothing (unclosed '[' or no path left after normalisation)"
    return None


def compile_patterns(patterns: Sequence[str]) -> list[GitIgnoreSpecPattern]:
    """Compile each (validated) pattern once; reuse the result for the spec and the pre-check."""
    return [GitIgnoreSpecPattern(pattern) for pattern in patterns]


def compile_spec(patterns: Sequence[str] | Sequence[GitIgnoreSpecPattern]) -> GitIgnoreSpec:
    """One spec for a list of patterns; ``check_file`` gives the deciding pattern's index."""
    compiled = [p if isinstance(p, GitIgnoreSpecPattern) else GitIgnoreSpecPattern(p) for p in patterns]
    return GitIgnoreSpec(compiled)


def prefilter(patterns: Sequence[GitIgnoreSpecPattern]) -> re.Pattern[str] | None:
    """One regex matching every path that *any* non-negated pattern of ``patterns`` matches.

    A fast, sound pre-check (never a false negative: negations can only take paths away); the
    deciding check stays :meth:`GitIgnoreSpec.check_file`. None when it cannot be built, and
    callers then check every path the slow way.
    """
    parts = []
    for compiled in patterns:
        if compiled.include and compiled.regex is not None:
            if compiled.regex.flags & ~re.UNICODE:
                return None
            # Named groups cannot repeat in one regex; the group only marks directory matches.
            parts.append("(?:" + re.sub(r"\(\?P<\w+>", "(?:", compiled.regex.pattern) + ")")
    if not parts:
        return None
    try:
        return re.compile("|".join(parts))
    except re.error:
        return None


def normalize_path(path: str) -> str:
    """Repository-relative POSIX path as the router matches it: no leading ``./`` or ``/``."""
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")
