"""Turn a model's checked output into Findings anchored by its quotes, never by its line numbers.

Everything a model wrote is untrusted: strings stay plain strings, pass through
the redactor's ``scrub`` before they become a :class:`~reviewbot.models.Finding`,
and publishers escape them later. A quote found on new-side lines inside the
hunk's commentable range places the finding; otherwise it is kept unplaced. For a hunk sent
condensed (:mod:`reviewbot.lanes.condensed`), the lines are its package changes, each numbered
with the new-side line naming the package: a quote of one places the finding on that line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..models import Confidence, Finding, Hunk, Lane, RedactedText, Severity, fingerprint
from .prompt import CONDENSED, NumberedLine, PromptHunk
from .schema import RawFinding

_WS = re.compile(r"\s+")
_NUMBER_PREFIX = re.compile(r"^\s*\d*\s?[+\- ]")
_CWE = re.compile(r"^CWE-(\d{1,5})$")
_CATEGORY = re.compile(r"[^a-z0-9/]+")
MAX_TEXT = 4000


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def locate_quote(quote: str, hunk: PromptHunk) -> tuple[int, ...] | None:
    """Indexes into ``hunk.lines`` of the first run of lines matching the quote, or None."""
    wanted = [q for q in (_norm(line) for line in quote.splitlines()) if q]
    if not wanted:
        return None
    texts = [_norm(ln.text) for ln in hunk.lines]

    def matches(q: str, t: str) -> bool:
        return q == t or (len(q) >= 8 and q in t)

    for variant in (wanted, [_norm(_NUMBER_PREFIX.sub("", q, count=1)) for q in wanted]):
        for start in range(len(texts) - len(variant) + 1):
            if all(matches(q, texts[start + k]) for k, q in enumerate(variant)):
                return tuple(range(start, start + len(variant)))
    return None


def _whole_lines(quote: str, lines: Sequence[NumberedLine]) -> bool:
    """True when the quote is exactly ``lines``, whole (not a fragment of each)."""
    wanted = [q for q in (_norm(line) for line in quote.splitlines()) if q]
    texts = [_norm(ln.text) for ln in lines]
    return wanted == texts or [_norm(_NUMBER_PREFIX.sub("", q, count=1)) for q in wanted] == texts


def checked_replacement(
    replacement: str | None,
    quote: str,
    hunk: Hunk,
    lines: Sequence[NumberedLine],
    scrub: Callable[[str], RedactedText],
) -> str | None:
    """The model's replacement, kept only when it can replace exactly the quoted lines.

    That is: the quote is whole new-side lines, consecutive, each shown to the model verbatim
    (a line with a masked value differs from the file, so a replacement written from the
    placeholder would be wrong), and the redactor masks nothing in the replacement.
    """
    if replacement is None or not lines or not _whole_lines(quote, lines):
        return None
    numbers = [ln.new_no for ln in lines]
    first = numbers[0]
    if first is None or numbers != list(range(first, first + len(numbers))):  # a removed line, or a gap
        return None
    real = {ln.new_no: ln.text for ln in hunk.lines if ln.new_no is not None}
    if any(real.get(n) != ln.text for n, ln in zip(range(first, first + len(lines)), lines, strict=True)):
        return None
    text = replacement.replace("\r\n", "\n")
    text = text[:-1] if text.endswith("\n") else text
    if len(text) > MAX_TEXT or scrub(text) != text:
        return None
    return text


@dataclass(frozen=True)
class Mapped:
    findings: tuple[Finding, ...]
    dropped_low_confidence: int
    unplaced: int


def _capped(scrub: Callable[[str], RedactedText], text: str) -> RedactedText:
    """Redact, then cut: a cut first can split a secret so that the redactor no longer knows it,
    and the part before the cut would be kept in clear (a cut placeholder reveals nothing)."""
    return RedactedText(scrub(text)[:MAX_TEXT])


def map_findings(
    raw: Sequence[RawFinding],
    hunks: Sequence[tuple[Hunk, PromptHunk]],
    *,
    model: str,
    lane: Lane,
    min_confidence: Confidence,
    scrub: Callable[[str], RedactedText],
) -> Mapped:
    by_id = {h.id: (h, p) for h, p in hunks}
    out: list[Finding] = []
    dropped = unplaced = 0
    for item in raw:
        confidence = Confidence.parse(item.confidence)
        if confidence < min_confidence:
            dropped += 1
            continue
        target = by_id.get(item.hunk_id)
        located = locate_quote(item.quote, target[1]) if target else None
        if located is None:  # a wrong hunk id, or a quote from another hunk of this request
            for pair in hunks:
                if (found := locate_quote(item.quote, pair[1])) is not None:
                    target, located = pair, found
                    break
        if target is None:
            target = hunks[0]
        hunk, prompt_hunk = target
        lines = [prompt_hunk.lines[i] for i in located] if located else []
        numbers = [ln.new_no for ln in lines if ln.new_no is not None]
        placed = bool(numbers) and all(n in hunk.commentable for n in numbers)
        start, end = (min(numbers), max(numbers)) if numbers else (hunk.new_start, hunk.new_start)
        if not placed:
            unplaced += 1
        snippet = "\n".join(ln.text for ln in lines) if lines else _norm(item.quote)
        category = _CATEGORY.sub("-", item.category.lower()).strip("-")[:64] or "security-issue"
        cwe_match = _CWE.match(_norm(item.cwe or "").upper())
        body = f"{item.explanation}\n\nSource: {item.source}\nSink: {item.sink}"
        out.append(
            Finding(
                rule=category,
                severity=Severity.parse(item.severity),
                confidence=confidence,
                path=hunk.path,
                start_line=start,
                end_line=end,
                title=_capped(scrub, item.title),
                body=_capped(scrub, body),
                source=f"model:{model}",
                fingerprint=fingerprint(category, hunk.path, scrub(snippet)),
                cwe=f"CWE-{cwe_match.group(1)}" if cwe_match else None,
                fix=_capped(scrub, item.fix) if item.fix else None,
                hunk_id=hunk.id,
                placed=placed,
                lane=lane,
                # a condensed hunk's lines are package changes, not code: nothing to replace
                replacement=checked_replacement(item.replacement, item.quote, hunk, lines, scrub)
                if placed and prompt_hunk.mode != CONDENSED
                else None,
            )
        )
    return Mapped(tuple(sorted(out, key=Finding.sort_key)), dropped, unplaced)
