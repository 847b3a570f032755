"""A cheap literal gate in front of the combined content pattern.

Python's ``re`` tries every alternative at every position, and an alternative that starts with
``\\b`` or a look-behind defeats its first-character optimisation: a combined pattern of many
families costs about a microsecond per character. Nearly every family regex contains a word it
cannot match without (``subprocess``, ``pickle``, ``innerHTML``). :func:`required_literals`
finds such words from the parsed regex; a gate made only of them (lower-cased, so a superset)
rules out most hunks at C speed, and the full pattern runs only on the rest. A regex without a
usable literal (``[\\])][*+]``) has no gate, and then the full pattern always runs: the gate is an
optimisation, never a filter that changes what matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

try:  # the parser of the standard library's re (private; the gate is skipped when it moves)
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python versions
    _p = _c = None

MIN_LITERAL = 2  # a one-character literal ("(", "=") would let nearly every hunk through

Needs = frozenset[str] | None  # None: no literal is required


def required_literals(regex: str) -> Needs:
    """Strings of which every match of ``regex`` contains at least one (None when unknown)."""
    if _p is None:
        return None
    try:  # any surprise of a private parser means "no gate", never an error
        needs = _sequence(list(_p.parse(regex)))
    except Exception:
        return None
    if needs is None or min(len(s) for s in needs) < MIN_LITERAL:
        return None
    return needs


def _best(candidates: Iterable[frozenset[str]]) -> Needs:
    best: Needs = None
    for cand in candidates:
        if cand and (best is None or min(map(len, cand)) > min(map(len, best))):
            best = cand
    return best


def _exact(op: Any, arg: Any) -> frozenset[str] | None:
    """The exact strings a branch of plain literals matches (``e(?:val|xec)`` after the parser's
    prefix factoring), so that a literal run can continue through it; None otherwise."""
    if op is _c.SUBPATTERN:
        items = list(arg[-1])
        return _exact(*items[0]) if len(items) == 1 else None
    if op is not _c.BRANCH:
        return None
    out: set[str] = set()
    for branch in arg[1]:
        if not branch or any(o is not _c.LITERAL for o, _ in branch):
            return None
        out.add("".join(chr(a) for _, a in branch))
    return frozenset(out) if len(out) <= 32 else None


def _sequence(items: Sequence[tuple[Any, Any]]) -> Needs:
    candidates: list[frozenset[str]] = []
    runs: set[str] = set()  # the literal run(s) being read; several after an exact branch

    def close() -> None:
        if runs and all(runs):
            candidates.append(frozenset(runs))
        runs.clear()

    for op, arg in items:
        if op is _c.LITERAL:
            if not runs:
                runs.add("")
            grown = {r + chr(arg) for r in runs}
            runs.clear()
            runs.update(grown)
            continue
        exact = _exact(op, arg)
        if exact is not None and len(runs or {""}) * len(exact) <= 64:
            grown = {r + e for r in (runs or {""}) for e in exact}
            runs.clear()
            runs.update(grown)
            continue
        close()
        inner = _element(op, arg)
        if inner is not None:
            candidates.append(inner)
    close()
    return _best(candidates)


def _element(op: Any, arg: Any) -> Needs:
    if op is _c.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is _c.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            needs = _sequence(list(branch))
            if needs is None:
                return None
            union |= needs
        return frozenset(union)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)) and arg[0] >= 1:
        return _sequence(list(arg[2]))
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _sequence(list(arg))
    return None


def build_gate(regexes: Sequence[str]) -> re.Pattern[str] | None:
    """One alternation of the lower-cased literals, to search in lower-cased text (a superset of
    any case), or None when some regex has no literal. Lower-casing the text once and searching
    plain literals is an order of magnitude faster than ``re.IGNORECASE``."""
    return gate_of([required_literals(regex) for regex in regexes])


def gate_of(needs: Iterable[Needs]) -> re.Pattern[str] | None:
    """:func:`build_gate` from the regexes' :func:`required_literals`, when the caller has them."""
    words: set[str] = set()
    for literals in needs:
        if literals is None:
            return None
        words |= literals
    return re.compile(_trie({w.lower() for w in words}))


def literal_alternation(words: Iterable[str]) -> re.Pattern[str]:
    """A regex that finds any of ``words`` (as written), factored by first character."""
    return re.compile(_trie(set(words)))


def _trie(words: set[str]) -> str:
    """A regex matching any of ``words``, factored by first character (``a(?:bc|d)``): the
    engine then tests a position against a few dozen first characters, not every word."""
    if "" in words:
        return ""  # a word ends here: matching it is enough (a prefix of the longer ones)
    by_first: dict[str, set[str]] = {}
    for word in words:
        by_first.setdefault(word[0], set()).add(word[1:])
    parts = []
    for first in sorted(by_first):
        rest = _trie(by_first[first])
        parts.append(re.escape(first) + (f"(?:{rest})" if "|" in rest else rest))
    return "|".join(parts)
