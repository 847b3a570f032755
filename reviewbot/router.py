"""The router: which lane each hunk goes to, and the exact rule and pattern that decided.

Semantics (DESIGN.md §3), like ``git check-ignore -v``:

1. ``exclude`` patterns are checked first: a match is lane ``skip``, rule ``"exclude"``.
2. Then the routes in order (SECURITY_PATHS first, as :func:`~reviewbot.policy.apply_env` puts it
   there); the first route with a matching pattern decides. Within one route, patterns have
   gitignore semantics (the last matching pattern decides, so ``!pattern`` can take a path back out).
3. Otherwise the policy's default lane, rule ``"default"``.
4. Content rules (routes with ``content:``) take no part in steps 2-3. A hunk that steps 1-3 did
   not send to the security lane or skip (a general or default decision) is searched by the
   content rules (:mod:`reviewbot.content`); the first line one of them finds sends the hunk to
   the security lane, and the route carries the regex and that line. Excludes and skip routes win.

``PathDecision.line`` is the line of the deciding pattern itself (like ``git check-ignore -v``),
or of its rule when the pattern's line is unknown.

A renamed or deleted file is routed by its new path, and by its old path too: when the old path
is security-relevant the hunk stays in the security lane (a file moved out of ``auth/``, or into
``vendor/``, is still a security change). ``Route.matched_path`` says which path decided.

Every pattern is compiled once, with pathspec's :class:`~pathspec.GitIgnoreSpec`, and decisions
are cached per path since many hunks share a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from .content import ContentMatch, ContentRules
from .models import Diff, Hunk, Lane, Route, SkippedItem, SkipReason
from .policy.globs import compile_patterns, compile_spec, normalize_path, prefilter
from .policy.model import Policy, RouteRule

EXCLUDE_RULE = "exclude"
DEFAULT_RULE = "default"


@dataclass(frozen=True)
class PathDecision:
    """Where one path goes, and why."""

    lane: Lane
    rule: str  # route name, "SECURITY_PATHS", "exclude" or "default"
    pattern: str | None = None  # the pattern that matched (None for the default)
    origin: str = "policy"  # "policy", "SECURITY_PATHS" (environment) or "default"
    line: int | None = None  # line of the deciding pattern (else of its rule) in the policy file

    @property
    def excluded(self) -> bool:
        return self.rule == EXCLUDE_RULE

    @property
    def is_default(self) -> bool:
        return self.rule == DEFAULT_RULE


@dataclass(frozen=True)
class _CompiledRule:
    rule: RouteRule
    spec: GitIgnoreSpec
    quick: re.Pattern[str] | None  # sound pre-check: no match here means the rule cannot match

    @classmethod
    def build(cls, rule: RouteRule, patterns: list[GitIgnoreSpecPattern]) -> _CompiledRule:
        return cls(rule, compile_spec(patterns), prefilter(patterns))

    def index(self, path: str) -> int | None:
        """Index of the deciding pattern when this rule matches ``path``, else None."""
        if self.quick is not None and self.quick.match(path) is None:
            return None
        result = self.spec.check_file(path)
        return result.index if result.include else None


@dataclass(frozen=True)
class HunkDecision:
    """Where one hunk goes and everything that explains it."""

    decision: PathDecision
    matched_path: str
    content: ContentMatch | None = None  # set when a content rule decided

    @property
    def lane(self) -> Lane:
        return self.decision.lane


def _line_of(lines: tuple[int | None, ...], index: int, fallback: int | None) -> int | None:
    line = lines[index] if index < len(lines) else None
    return line if line is not None else fallback


class Router:
    """Routes paths, hunks and whole diffs for one policy. Build once per run."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        exclude = RouteRule(EXCLUDE_RULE, Lane.SKIP, policy.exclude)
        path_rules = tuple(rule for rule in policy.routes if not rule.content)
        compiled = {rule: compile_patterns(rule.paths) for rule in (exclude, *path_rules)}
        self._exclude = _CompiledRule.build(exclude, compiled[exclude]) if policy.exclude else None
        self._rules = tuple(_CompiledRule.build(rule, compiled[rule]) for rule in path_rules)
        self.content = ContentRules(policy.routes)
        # Most paths match no pattern at all: one regex answers for them.
        self._any = prefilter([p for patterns in compiled.values() for p in patterns])
        self._default = PathDecision(policy.default_lane, DEFAULT_RULE, origin=DEFAULT_RULE)
        self._cache: dict[str, PathDecision] = {}

    def route_path(self, path: str) -> PathDecision:
        """The decision for one repository-relative path."""
        cached = self._cache.get(path)
        if cached is None:
            cached = self._cache[path] = self._decide(normalize_path(path))
        return cached

    def _decide(self, path: str) -> PathDecision:
        if self._any is not None and self._any.match(path) is None:
            return self._default
        if self._exclude is not None:
            index = self._exclude.index(path)
            if index is not None:
                line = _line_of(self.policy.exclude_lines, index, None)
                return PathDecision(Lane.SKIP, EXCLUDE_RULE, self.policy.exclude[index], "policy", line)
        for compiled in self._rules:
            index = compiled.index(path)
            if index is not None:
                rule = compiled.rule
                line = _line_of(rule.path_lines, index, rule.line)
                return PathDecision(rule.lane, rule.name, rule.paths[index], rule.origin, line)
        return self._default

    def decide_hunk(self, hunk: Hunk) -> tuple[PathDecision, str]:
        """The decision for a hunk and the path that produced it (new path, or a security old path)."""
        decision = self.route_path(hunk.path)
        old = hunk.old_path
        if old and old != hunk.path and decision.lane is not Lane.SECURITY:
            old_decision = self.route_path(old)
            if old_decision.lane is Lane.SECURITY:
                return old_decision, old
        return decision, hunk.path

    def explain_hunk(self, hunk: Hunk) -> HunkDecision:
        """The decision for a hunk: path rules first, then content rules where they may act."""
        decision, matched = self.decide_hunk(hunk)
        if decision.lane is Lane.SECURITY or (decision.lane is Lane.SKIP and not decision.is_default):
            return HunkDecision(decision, matched)
        if not self.content:
            return HunkDecision(decision, matched)
        found = self.content.match(hunk)
        if found is None:
            return HunkDecision(decision, matched)
        rule = found.rule
        by_content = PathDecision(rule.lane, rule.name, found.pattern, rule.origin, found.pattern_line or rule.line)
        return HunkDecision(by_content, hunk.path, found)

    def route_hunk(self, hunk: Hunk) -> Route:
        explained = self.explain_hunk(hunk)
        decision = explained.decision
        return Route(
            hunk_id=hunk.id,
            path=hunk.path,
            lane=decision.lane,
            rule=decision.rule,
            pattern=decision.pattern,
            matched_path=explained.matched_path,
            matched_line=explained.content.line if explained.content else None,
        )

    def route_diff(self, diff: Diff) -> tuple[tuple[Route, ...], tuple[SkippedItem, ...]]:
        """A route for every hunk (in diff order), and a skipped item for each hunk routed to skip.

        Only the router's own skips are returned; ``diff.skipped`` (binary files, ...) is the parser's.
        """
        routes: list[Route] = []
        skipped: list[SkippedItem] = []
        for file in diff.files:
            for hunk in file.hunks:
                route = self.route_hunk(hunk)
                routes.append(route)
                if route.lane is Lane.SKIP:
                    skipped.append(_skipped(hunk, route))
        return tuple(routes), tuple(sorted(skipped, key=SkippedItem.sort_key))


def _skipped(hunk: Hunk, route: Route) -> SkippedItem:
    if route.rule == EXCLUDE_RULE:
        return SkippedItem(hunk.path, SkipReason.EXCLUDED, f"exclude pattern {route.pattern}", hunk_id=hunk.id)
    by_rule = f"rule {route.rule} (pattern {route.pattern})"
    detail = "default lane is skip" if route.rule == DEFAULT_RULE else by_rule
    return SkippedItem(hunk.path, SkipReason.SKIP_ROUTE, detail, hunk_id=hunk.id)
