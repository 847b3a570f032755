"""Content rules, compiled once: which hunk a rule's regexes find in code, and the line they found.

A content rule is a policy route with ``content:`` regexes (its ``paths``, when present, scope
where it applies). For a hunk, the rules that apply to its path are combined into **one** regex
(cached per set of rules, which in practice means once per language), and that regex is searched
in the hunk's added and removed lines after comments and string literals are masked
(:mod:`reviewbot.content.mask`). The first matching line (in hunk order) decides, and the match
names the rule, the regex, the regex's line in the policy file and the line's original text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pathspec import GitIgnoreSpec

from ..models import DiffLine, Hunk
from ..policy.globs import compile_patterns, compile_spec, normalize_path, prefilter
from ..policy.model import RouteRule
from .gate import Needs, gate_of, required_literals
from .mask import masker_for

_LEADING_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=|\(\?P<|\(\?<[A-Za-z_]")


@dataclass(frozen=True)
class ContentMatch:
    """Why a content rule matched a hunk."""

    rule: RouteRule
    pattern: str  # the regex that matched, as written in the policy
    pattern_line: int | None  # line of that regex in its policy file
    line: str  # the hunk line that matched, as in the diff (without its +/- marker)
    kind: str  # "+" (added) or "-" (removed)
    line_no: int | None  # its line number in the new file (added) or the old file (removed)


@dataclass(frozen=True)
class _Alternative:
    rule: RouteRule
    index: int  # index of the regex in rule.content


def _scoped(regex: str) -> str:
    """``(?i)x`` -> ``(?i:x)``: global flags cannot sit inside an alternation."""
    flags = _LEADING_FLAGS.match(regex)
    if flags:
        return f"(?{flags.group(1)}:{regex[flags.end() :]})"
    return regex


class _Combined:
    """The content regexes of a set of rules as few patterns: one combined pattern behind a literal
    gate, one for the regexes without a usable literal, and one per regex with a group reference."""

    def __init__(self, alternatives: Sequence[_Alternative]) -> None:
        self.alternatives = tuple(alternatives)
        gated: list[int] = []
        ungated: list[int] = []
        apart: list[int] = []
        needs: dict[int, Needs] = {}  # each regex is parsed for its literals once
        for number, alt in enumerate(self.alternatives):
            regex = alt.rule.content[alt.index]
            needs[number] = required_literals(regex)
            if _BACKREF.search(regex):  # group references would shift when combined
                apart.append(number)
            elif needs[number] is None:
                ungated.append(number)
            else:
                gated.append(number)
        parts: list[tuple[re.Pattern[str] | None, re.Pattern[str], tuple[int, ...]]] = []
        if gated:
            parts.append((gate_of(needs[n] for n in gated), self._join(gated), tuple(gated)))
        if ungated:
            parts.append((None, self._join(ungated), tuple(ungated)))
        for number in apart:
            regex = self._regex(number)
            parts.append((gate_of([needs[number]]), re.compile(regex, re.MULTILINE), (number,)))
        self.parts = tuple(parts)

    def _regex(self, number: int) -> str:
        alt = self.alternatives[number]
        return alt.rule.content[alt.index]

    def _join(self, numbers: Sequence[int]) -> re.Pattern[str]:
        return re.compile("|".join(f"(?P<r{n}>{_scoped(self._regex(n))})" for n in numbers), re.MULTILINE)

    def first(self, text: str) -> tuple[int, int] | None:
        """(alternative index, match start) of the earliest match within one line of ``text``."""
        best: tuple[int, int] | None = None
        lowered: str | None = None
        for gate, pattern, numbers in self.parts:
            if gate is not None:
                if lowered is None:
                    lowered = text.lower()
                if gate.search(lowered) is None:
                    continue
            found = _search(pattern, text)
            if found is None:
                continue
            group, at = found
            which = int(group[1:]) if group and len(numbers) > 1 else numbers[0]
            if best is None or at < best[1]:
                best = (which, at)
        return best


def _search(pattern: re.Pattern[str], text: str) -> tuple[str | None, int] | None:
    """(last group name, start) of the first match of ``pattern`` that lies within one line."""
    pos = 0
    while True:
        match = pattern.search(text, pos)
        if match is None:
            return None
        if "\n" not in match.group(0):
            return match.lastgroup, match.start()
        # A match across lines is not a match of one line: try that line alone, then go on.
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.start())
        single = pattern.search(text[start:end])
        if single is not None:
            return single.lastgroup, start + single.start()
        pos = end + 1


class ContentRules:
    """The content rules of a policy, compiled once. Build once per run (the router does)."""

    def __init__(self, rules: Sequence[RouteRule]) -> None:
        self.rules = tuple(r for r in rules if r.content)
        # Rules of one language share their `paths`: each distinct scope is checked once per path.
        scopes: dict[tuple[str, ...], int] = {}
        self._scope_of = tuple(scopes.setdefault(r.paths, len(scopes)) for r in self.rules)
        self._scopes: tuple[GitIgnoreSpec | None, ...] = tuple(
            compile_spec(paths) if paths else None for paths in scopes
        )
        # A path no positive pattern of a scope matches is outside it: one regex says so for most.
        self._quick = tuple(prefilter(compile_patterns(paths)) if paths else None for paths in scopes)
        self._by_path: dict[str, _Combined | None] = {}
        self._by_set: dict[tuple[int, ...], _Combined] = {}

    def __bool__(self) -> bool:
        return bool(self.rules)

    def for_path(self, path: str) -> _Combined | None:
        """The combined pattern of the rules that apply to ``path`` (None when none does)."""
        if path in self._by_path:
            return self._by_path[path]
        clean = normalize_path(path)
        inside = [
            scope is None or ((quick is None or quick.match(clean) is not None) and scope.match_file(clean))
            for scope, quick in zip(self._scopes, self._quick, strict=True)
        ]
        applicable = tuple(i for i, scope in enumerate(self._scope_of) if inside[scope])
        combined = None
        if applicable:
            combined = self._by_set.get(applicable)
            if combined is None:
                alternatives = [
                    _Alternative(self.rules[i], j) for i in applicable for j in range(len(self.rules[i].content))
                ]
                combined = self._by_set[applicable] = _Combined(alternatives)
        self._by_path[path] = combined
        return combined

    def match(self, hunk: Hunk) -> ContentMatch | None:
        """The first added or removed line of ``hunk`` a content rule finds, or None."""
        combined = self.for_path(hunk.path)
        if combined is None:
            return None
        mask = masker_for(hunk.language)
        rows = hunk.rows()  # marker and text of each line: no line objects for a hunk nothing matches
        best: tuple[int, int, _Alternative] | None = None  # (hunk line index, start, alternative)
        for kind, other in (("+", "-"), ("-", "+")):
            side = [i for i, r in enumerate(rows) if r[:1] != other]  # the context and this kind
            changed = [k for k, i in enumerate(side) if rows[i][:1] == kind]
            if not changed:
                continue
            masked = mask("\n".join([rows[i][1:] for i in side])).split("\n")
            text = "\n".join([masked[k] for k in changed])
            found = combined.first(text)
            if found is None:
                continue
            which, start = found
            row = changed[text.count("\n", 0, start)]
            index = side[row]
            if best is None or index < best[0]:
                best = (index, start, combined.alternatives[which])
        if best is None:
            return None
        index, _, alternative = best
        line = hunk.lines[index]
        return _content_match(alternative, line)


def _content_match(alternative: _Alternative, line: DiffLine) -> ContentMatch:
    rule = alternative.rule
    lines = rule.content_lines
    return ContentMatch(
        rule=rule,
        pattern=rule.content[alternative.index],
        pattern_line=lines[alternative.index] if alternative.index < len(lines) else None,
        line=line.text,
        kind=line.kind,
        line_no=line.new_no if line.kind == "+" else line.old_no,
    )
