"""The redactor: finds secrets and personal data and replaces them with numbered placeholders.

Speed comes from the prefilter: each rule names literals that occur in every match, those
are looked up with ``str.find`` (fast C code) and the rule's regex runs only on the lines
where one occurs. Text without any keyword costs one ``find`` per keyword.

Line structure is preserved: a secret spanning lines (a PEM private key) becomes one
placeholder per line, each line keeping its diff marker (``+``, ``-``, space) and indentation.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from ..content.gate import literal_alternation
from ..errors import PolicyError
from ..models import Confidence, RedactedText
from .entropy import DOCUMENTED_EXAMPLES, is_generic_secret, is_placeholder
from .pii import PII_KINDS, PII_RULES
from .rules import GENERIC_ASSIGNMENT, PROVIDER_RULES, URL_CREDENTIALS, Rule

if TYPE_CHECKING:
    from ..policy.model import RedactionConfig

PLACEHOLDER = re.compile(r"\[REDACTED:(?P<kind>[a-z0-9][a-z0-9\-]*):(?P<n>\d+)\]")
_KIND_OK = re.compile(r"[a-z0-9][a-z0-9\-]{0,40}")
_MAX_KEY_CHARS = 20_000  # how far a private key's END line may be from its BEGIN line
# ``scrub`` remembers strings it found clean (a report repeats paths, rule names and ids
# many times): up to this many, each up to this long.
_CLEAN_MEMO_SIZE = 65_536
_CLEAN_MEMO_MAX_CHARS = 256
_PRIVATE_KEY = "PRIVATE KEY"  # the keyword of private key blocks
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?)-----")
_PEM_BODY_LINE = re.compile(
    r"[+\- ]?[ \t]*(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9+/]{1,15}={1,2}"
    r"|Proc-Type:.*|DEK-Info:.*|Comment:.*|Version:.*)?[ \t\"',]*\r?"
)
_PEM_ESCAPED_TAIL = re.compile(r"(?:\\r|\\n|[A-Za-z0-9+/=]| )*(?:-----END [A-Z0-9 ]*-----)?")
_DIFF_LEAD = re.compile(r"[+\- ]?[ \t]*")
_PLAIN_LEAD = re.compile(r"[ \t]*")
_REPEATED_RUN = re.compile(r"(.)\1{5,}")
# Every provider token lies inside a run of these characters at least 20 long.
_RUN_CHARS = r"A-Za-z0-9_\-.+/=~:%"
_RUN = re.compile(rf"[^{_RUN_CHARS}]([{_RUN_CHARS}]{{20,}}+)")  # from the separator: no retries mid-word
_RUN_AT_START = re.compile(rf"[{_RUN_CHARS}]{{20,}}+")
# Token characters as "r", other ASCII as " " (others stay as they are, none of them "r"): a run
# of 20 exists exactly when the shape holds 20 "r" in a row, which str's search finds fast.
_RUN_SHAPE = str.maketrans({chr(c): "r" if re.fullmatch(f"[{_RUN_CHARS}]", chr(c)) else " " for c in range(128)})
_LONG_RUN = "r" * 20
# Every SSN, phone, card number and IBAN we look for holds, once digits are mapped to "0" and
# separators to ".", one of these: "0.0000" (SSN 00.0000, phone 000.0000, grouped card or IBAN)
# or ten digits in a row (compact card, E.164 phone, compact IBAN).
_DIGIT_SHAPE = str.maketrans({**{c: "0" for c in "0123456789"}, **{c: "." for c in " .-()"}})
_DIGIT_NEEDLES = ("0.0000", "0000000000")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_NOT_PASSWORDS = frozenset({"password", "pass", "passwd", "pwd"})
_GENERIC_LOWER = re.compile(GENERIC_ASSIGNMENT.regex.pattern.replace("(?i:", "(?:"))
RUN_RULES = tuple(r for r in PROVIDER_RULES if r.in_run)
_RUN_KEYWORDS = tuple((kw, n) for n, rule in enumerate(RUN_RULES) for kw in rule.keywords)
_RUN_GATE = literal_alternation(kw for kw, _ in _RUN_KEYWORDS)
LINE_RULES = (*(r for r in PROVIDER_RULES if not r.in_run), URL_CREDENTIALS, GENERIC_ASSIGNMENT)
# Every keyword of the rules that need their line (see Redactor._may_hold): in the lowered text
# for case-insensitive rules, else in the text; the PII rules without keywords go by digit shape.
_LOWER_KEYWORDS = tuple(kw for r in LINE_RULES if r.ignore_case for kw in r.keywords)
_SECRET_TEXT_KEYWORDS = (*(kw for r in LINE_RULES if not r.ignore_case for kw in r.keywords), _PRIVATE_KEY)
_TEXT_KEYWORDS = (*_SECRET_TEXT_KEYWORDS, *(kw for r in PII_RULES for kw in r.keywords))
_PII_BY_DIGITS = any(not r.keywords for r in PII_RULES)


class RedactionPatternError(PolicyError):
    """A ``redaction.extra_patterns`` or ``redaction.allow`` entry that is not a usable regex."""


@dataclass(frozen=True)
class Redaction:
    """One masked span on one line: 1-based ``line`` and columns, ``end_col`` exclusive. Never the value."""

    kind: str
    line: int
    start_col: int
    end_col: int
    placeholder: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "kind": self.kind,
            "line": self.line,
            "start_col": self.start_col,
            "end_col": self.end_col,
            "placeholder": self.placeholder,
        }


@dataclass(frozen=True)
class RedactionResult:
    text: RedactedText
    redactions: tuple[Redaction, ...]

    @property
    def found(self) -> bool:
        return bool(self.redactions)


class _Span(NamedTuple):
    start: int
    end: int
    kind: str
    priority: int


def confidence_of(kind: str) -> Confidence:
    """Provider formats and private keys are HIGH; generic assignments MEDIUM."""
    return Confidence.MEDIUM if kind == GENERIC_ASSIGNMENT.kind else Confidence.HIGH


def is_pii(kind: str) -> bool:
    return kind in PII_KINDS


def _provider_placeholder(value: str) -> bool:
    """Provider tokens are random: only documentation keys and filler runs are not secrets."""
    return value in DOCUMENTED_EXAMPLES or "EXAMPLE" in value or bool(_REPEATED_RUN.search(value))


def _join(text: str, regions: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """The regions of ``text`` joined by newlines, and where each starts in the result."""
    pieces = [text[s:e] for s, e in regions]
    starts = list(accumulate([len(p) + 1 for p in pieces], initial=0))
    starts.pop()
    return "\n".join(pieces), starts


def _digit_lines(text: str) -> list[tuple[int, int]]:
    """Lines that may hold an SSN, phone, card number or IBAN (see :data:`_DIGIT_NEEDLES`)."""
    return _lines_with(text, text.translate(_DIGIT_SHAPE), _DIGIT_NEEDLES)


def _lines_with(text: str, hay: str, keywords: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text`` on which one of ``keywords`` occurs in ``hay``."""
    found: dict[int, int] = {}
    n = len(text)
    for kw in keywords:
        i = hay.find(kw)
        if i == -1:  # the usual case: nothing to set up
            continue
        while i != -1:
            start = text.rfind("\n", 0, i) + 1
            end = text.find("\n", i)
            if end == -1:
                end = n
            found[start] = end
            i = hay.find(kw, end)
    return sorted(found.items()) if found else []


class Redactor:
    """Masks secrets (and, unless ``pii=False``, personal data) in text.

    Stateful for one run: the same value always gets the same placeholder
    ``[REDACTED:<kind>:<n>]``. Thread-safe. Raises :class:`RedactionPatternError`
    for an extra pattern that does not compile.
    """

    def __init__(
        self,
        *,
        extra_patterns: Sequence[tuple[str, str]] = (),
        allow: Sequence[str] = (),
        pii: bool = True,
    ) -> None:
        self.pii = pii
        self._extra: list[tuple[str, re.Pattern[str]]] = []
        for name, pattern in extra_patterns:
            kind = name.strip().lower().replace("_", "-").replace(" ", "-")
            if not _KIND_OK.fullmatch(kind):
                raise RedactionPatternError(
                    f"redaction.extra_patterns: name {name!r} is not usable as a kind",
                    hint="use letters, digits and dashes, e.g. 'acme-api-key'",
                )
            try:
                self._extra.append((kind, re.compile(pattern)))
            except re.error as exc:
                raise RedactionPatternError(
                    f"redaction.extra_patterns: {name!r} is not a valid regex: {exc}",
                    hint="Python `re` syntax; quote the pattern in YAML",
                ) from None
        self._allow_exact = frozenset(allow)
        self._allow_re: list[re.Pattern[str]] = []
        for entry in allow:
            try:
                self._allow_re.append(re.compile(entry))
            except re.error:
                continue  # not a regex: an exact string only
        self._lock = threading.Lock()
        self._numbers: dict[tuple[str, str], int] = {}
        self._next: Counter[str] = Counter()
        self._occurrences: Counter[str] = Counter()
        self._clean: set[str] = set()  # short strings already scrubbed and found to hold nothing

    @classmethod
    def from_config(cls, cfg: RedactionConfig) -> Redactor:
        return cls(extra_patterns=cfg.extra_patterns, allow=cfg.allow, pii=cfg.pii)

    # ------------------------------------------------------------------ public
    def redact(self, text: str) -> RedactionResult:
        """Mask ``text`` and say what was masked where (columns of the input text)."""
        out, redactions = self._apply(text, want_positions=True)
        return RedactionResult(RedactedText(out), tuple(redactions))

    def scrub(self, text: str) -> RedactedText:
        """Mask ``text``: the call for every string that leaves the process.

        Detection depends only on the text and this redactor's fixed configuration, so a short
        string found clean once is clean every time: it is returned without a second scan.
        Strings that held something are scanned again, so their occurrences keep counting.
        """
        if text in self._clean:
            return text  # type: ignore[return-value]  # RedactedText(text), without the call
        out, _ = self._apply(text, want_positions=False)
        if out is text and len(text) <= _CLEAN_MEMO_MAX_CHARS and len(self._clean) < _CLEAN_MEMO_SIZE:
            with self._lock:
                self._clean.add(text)
        return RedactedText(out)

    def counts(self) -> tuple[tuple[str, int], ...]:
        """Occurrences masked so far in this run, by kind, sorted (for the audit log)."""
        with self._lock:
            return tuple(sorted(self._occurrences.items()))

    # --------------------------------------------------------------- detection
    def _allowed(self, value: str) -> bool:
        if value in self._allow_exact:
            return True
        return any(rx.fullmatch(value) for rx in self._allow_re)

    def _spans(self, text: str) -> list[_Span]:
        spans: list[_Span] = []
        self._run_rules(text, spans)
        lowered = text.lower()
        if len(lowered) != len(text):  # lower() changed the length (rare Unicode): case-fold per line
            lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
        if not self._extra and not self._may_hold(text, lowered):
            return spans  # no rule below has a keyword here: none can find anything
        for rule in LINE_RULES:
            self._run_line_rule(rule, text, lowered if rule.ignore_case else text, spans)
        self._private_keys(text, spans)
        for kind, rx in self._extra:
            for m in rx.finditer(text):
                start, end = _secret_group(m)
                if end > start and not self._allowed(text[start:end]):
                    spans.append(_Span(start, end, kind, 4))
        if self.pii:
            self._run_pii(text, spans)
        return spans

    def _may_hold(self, text: str, lowered: str) -> bool:
        """False when no line rule, private key or PII rule has its keyword (or digit shape) in ``text``.

        Each of those rules looks only at the lines holding one of its keywords, so without any
        it finds nothing; checking them all first costs a few ``in`` tests, where running every
        rule costs a few microseconds even on a short path or id.
        """
        for kw in _LOWER_KEYWORDS:
            if kw in lowered:
                return True
        for kw in _TEXT_KEYWORDS if self.pii else _SECRET_TEXT_KEYWORDS:
            if kw in text:
                return True
        if self.pii and _PII_BY_DIGITS:
            shape = text.translate(_DIGIT_SHAPE)
            for needle in _DIGIT_NEEDLES:
                if needle in shape:
                    return True
        return False

    def _run_rules(self, text: str, spans: list[_Span]) -> None:
        """Provider formats: looked for only inside long runs of token characters."""
        if _LONG_RUN not in text.translate(_RUN_SHAPE):
            return  # no run of 20 token characters: neither regex below can match
        runs = [m.span(1) for m in _RUN.finditer(text)]
        if (first := _RUN_AT_START.match(text)) is not None:
            runs.insert(0, first.span())
        if not runs:
            return
        reduced, starts = _join(text, runs)
        if _RUN_GATE.search(reduced) is None:
            return  # no keyword of any run rule in any run
        seen: set[tuple[int, int]] = set()  # (rule, run) pairs already matched
        for kw, rule_no in _RUN_KEYWORDS:
            i = reduced.find(kw)
            while i != -1:
                k = bisect_right(starts, i) - 1
                if (rule_no, k) not in seen:
                    seen.add((rule_no, k))
                    self._match_provider(RUN_RULES[rule_no], text, runs[k][0], runs[k][1], spans)
                i = reduced.find(kw, starts[k] + runs[k][1] - runs[k][0])

    def _match_provider(self, rule: Rule, text: str, start: int, end: int, spans: list[_Span]) -> None:
        for m in rule.regex.finditer(text, start, end):
            s, e = _secret_group(m)
            value = text[s:e]
            if not _provider_placeholder(value) and not self._allowed(value):
                spans.append(_Span(s, e, rule.kind, rule.priority))

    def _run_line_rule(self, rule: Rule, text: str, hay: str, spans: list[_Span]) -> None:
        """Rules that need their line: the regex runs once over the candidate lines joined.

        The generic rule matches the lowered lines (case-insensitive matching is slower);
        its key and value are read from ``text`` at the same offsets.
        """
        regions = _lines_with(text, hay, rule.keywords)
        if not regions:
            return
        generic = rule is GENERIC_ASSIGNMENT
        joined, starts = _join(hay if generic else text, regions)
        for m in (_GENERIC_LOWER if generic else rule.regex).finditer(joined):
            k = bisect_right(starts, m.start()) - 1
            delta = regions[k][0] - starts[k]
            if generic:
                group = m.lastgroup or "bare"  # the value's group (dq, sq, bq or bare) closes last
                s, e = m.start(group) + delta, m.end(group) + delta
                key_start, key_end = m.start("key") + delta, m.end("key") + delta
                floor = max(regions[k][0], key_start - 64)
                while key_start > floor and text[key_start - 1] in _KEY_CHARS:
                    key_start -= 1
                value = text[s:e]
                if not is_generic_secret(text[key_start:key_end], value):
                    continue
            else:
                s, e = _secret_group(m)
                value = joined[s:e]
                s, e = s + delta, e + delta
                if rule is URL_CREDENTIALS:
                    if is_placeholder(value) or value.lower() in _NOT_PASSWORDS:
                        continue
                elif _provider_placeholder(value):
                    continue
            if not self._allowed(value):
                spans.append(_Span(s, e, rule.kind, rule.priority))

    def _run_pii(self, text: str, spans: list[_Span]) -> None:
        digit_lines: list[tuple[int, int]] | None = None
        for rule in PII_RULES:
            if rule.keywords:
                regions = _lines_with(text, text, rule.keywords)
            else:
                if digit_lines is None:
                    digit_lines = _digit_lines(text)
                regions = digit_lines
            if not regions:
                continue
            joined, starts = _join(text, regions)
            for m in rule.regex.finditer(joined):
                length = rule.check(m.group(0))
                if not length or self._allowed(m.group(0)[:length]):
                    continue
                k = bisect_right(starts, m.start()) - 1
                start = m.start() + regions[k][0] - starts[k]
                spans.append(_Span(start, start + length, rule.kind, 0))

    def _private_keys(self, text: str, spans: list[_Span]) -> None:
        for start, end in _lines_with(text, text, (_PRIVATE_KEY,)):
            for m in _PEM_BEGIN.finditer(text, start, end):
                label = m.group(1)
                stop = _key_end(text, m, end)
                kind = (
                    "openssh-private-key"
                    if "OPENSSH" in label
                    else "pgp-private-key"
                    if "PGP" in label
                    else "gcp-service-account-key"
                    if "private_key" in text[start : m.start()]
                    else "private-key"
                )
                if not self._allowed(text[m.start() : stop]):
                    spans.append(_Span(m.start(), stop, kind, 3))

    # ------------------------------------------------------------- replacement
    def _number(self, kind: str, value: str) -> str:
        key = (kind, value)
        with self._lock:
            n = self._numbers.get(key)
            if n is None:
                self._next[kind] += 1
                n = self._numbers[key] = self._next[kind]
            self._occurrences[kind] += 1
        return f"[REDACTED:{kind}:{n}]"

    def _apply(self, text: str, *, want_positions: bool) -> tuple[str, list[Redaction]]:
        spans = self._spans(text)
        if not spans:
            return text, []
        merged = _merge(spans)
        pieces: list[str] = []
        redactions: list[Redaction] = []
        pos = 0
        line_no = 1
        line_start = 0
        for span in merged:
            newlines = text.count("\n", pos, span.start)
            if newlines:
                line_no += newlines
                line_start = text.rfind("\n", pos, span.start) + 1
            pieces.append(text[pos : span.start])
            segment = text[span.start : span.end]
            if "\n" not in segment:
                placeholder = self._number(span.kind, segment)
                pieces.append(placeholder)
                if want_positions:
                    redactions.append(
                        Redaction(
                            span.kind,
                            line_no,
                            span.start - line_start + 1,
                            span.end - line_start + 1,
                            placeholder,
                        )
                    )
                pos = span.end
                continue
            in_diff = span.start > line_start and text[line_start] in "+- "  # a diff marker before it
            lead_rx = _DIFF_LEAD if in_diff else _PLAIN_LEAD
            parts = segment.split("\n")
            leads = [""] + [lead_rx.match(part).group(0) for part in parts[1:]]  # type: ignore[union-attr]
            value = "\n".join(part[len(lead) :].strip() for part, lead in zip(parts, leads, strict=True))
            placeholder = self._number(span.kind, value)
            col = span.start - line_start + 1
            for i, (part, lead) in enumerate(zip(parts, leads, strict=True)):
                cr = "\r" if part.endswith("\r") and i < len(parts) - 1 else ""
                if i:
                    pieces.append("\n")
                pieces.append(lead + placeholder + cr)
                if want_positions:
                    first_col = col if i == 0 else len(lead) + 1
                    last_col = (col if i == 0 else 1) + len(part) - len(cr)
                    redactions.append(Redaction(span.kind, line_no + i, first_col, last_col, placeholder))
            line_no += len(parts) - 1
            line_start = span.end - len(parts[-1])
            pos = span.end
        pieces.append(text[pos:])
        return "".join(pieces), redactions


def _secret_group(m: re.Match[str]) -> tuple[int, int]:
    if "s" in m.re.groupindex:
        return m.span("s")
    if m.re.groups == 1:
        return m.span(1)
    return m.span(0)


def _key_end(text: str, begin: re.Match[str], line_end: int) -> int:
    """Where the private key that starts at ``begin`` ends (exclusive)."""
    end_marker = f"-----END {begin.group(1)}-----"
    rest_of_line = text[begin.end() : line_end]
    if rest_of_line.startswith(("\\n", "\\r")):  # JSON-escaped on one line (service-account files)
        tail = _PEM_ESCAPED_TAIL.match(text, begin.end(), line_end)
        return tail.end() if tail else line_end
    found = text.find(end_marker, begin.end(), begin.end() + _MAX_KEY_CHARS)
    if found != -1:
        return found + len(end_marker)
    # No END line (a truncated hunk): take the following lines that look like key material.
    stop = begin.end()
    pos = line_end + 1
    while pos < len(text):
        nl = text.find("\n", pos)
        nl = len(text) if nl == -1 else nl
        line = text[pos:nl]
        if not line.strip(" \t+-\r") or not _PEM_BODY_LINE.fullmatch(line):
            break
        stop = nl - 1 if line.endswith("\r") else nl
        pos = nl + 1
    return stop


def _merge(spans: list[_Span]) -> list[_Span]:
    """Union of overlapping spans; the highest-priority kind names the merged span."""
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: list[_Span] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = last if last.priority >= span.priority else span
            merged[-1] = _Span(last.start, max(last.end, span.end), best.kind, best.priority)
        else:
            merged.append(span)
    return merged
