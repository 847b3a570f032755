"""The data model shared by every stage of the pipeline (DESIGN.md §2).

Every result is a frozen dataclass. Anything that is not reviewed is a
:class:`SkippedItem` carrying its reason: nothing disappears silently.
Collections are tuples (ordered, hashable) and are always built sorted so
that machine output is deterministic.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NewType, overload

# Text that has been through the redactor. The prompt builder and every
# publisher accept only this type, so forgetting to redact is a type error.
RedactedText = NewType("RedactedText", str)


class Lane(enum.StrEnum):
    SECURITY = "security"
    GENERAL = "general"
    SKIP = "skip"


class SkipReason(enum.StrEnum):
    """Why a file or hunk was not reviewed. The values are part of the JSON contract."""

    OVER_BUDGET = "over-budget"
    EXCLUDED = "excluded"
    SKIP_ROUTE = "skip-route"
    BINARY = "binary"
    TOO_LARGE = "too-large"
    GENERATED = "generated"
    DELETED_ONLY = "deleted-only"
    MODE_ONLY = "mode-only"
    RENAME_ONLY = "rename-only"
    COPY_ONLY = "copy-only"
    EMPTY = "empty"
    SUBMODULE = "submodule"
    NO_PATCH = "no-patch"
    BLOCKED_BY_SAFEGUARD = "blocked-by-safeguard"
    FAILED = "failed"
    NO_MODEL = "no-model"
    OFFLINE = "offline"  # planned, but no model was called (--offline or no API key)
    DRY_RUN = "dry-run"  # planned, but --dry-run
    UNCHANGED_SINCE = "unchanged-since"  # --since REV: touches no line changed since REV (reviewed before it)


class Severity(enum.IntEnum):
    """Ordered: ``Severity.HIGH > Severity.MEDIUM``. Serialised by :attr:`label`."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None


class Confidence(enum.IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Confidence:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown confidence {value!r}") from None


class FileStatus(enum.StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    COPIED = "copied"


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a hunk. ``kind`` is ``+``, ``-`` or a space (context)."""

    kind: str
    text: str
    old_no: int | None
    new_no: int | None


class HunkLines(Sequence[DiffLine]):
    """A hunk's lines, kept as their unified-diff text and made into :class:`DiffLine` values on
    first use.

    The diff parser builds one per hunk: most hunks of a large diff are only redacted, routed,
    counted and reported, which the text serves without an object per line. ``text`` is every
    line as its marker (``+``, ``-`` or a space), its text and ``\\n``; the numbers run from
    ``old_start`` and ``new_start``. It compares and hashes as the tuple of its lines.
    """

    __slots__ = ("_lines", "new_start", "old_start", "text")

    def __init__(self, text: str, old_start: int, new_start: int) -> None:
        self.text = text
        self.old_start = old_start
        self.new_start = new_start
        self._lines: tuple[DiffLine, ...] | None = None

    def rows(self) -> list[str]:
        """Each line as its marker and text (no ``\\n``)."""
        rows = self.text.split("\n")
        rows.pop()  # the text ends with "\n"
        return rows

    def markers(self, kind: str) -> int:
        """How many lines have the marker ``kind`` (one character), counted on the text."""
        return self.text.count("\n" + kind) + self.text.startswith(kind)

    def _all(self) -> tuple[DiffLine, ...]:
        lines = self._lines
        if lines is None:
            lines = self._lines = tuple(_numbered(self.rows(), self.old_start, self.new_start))
        return lines

    def __len__(self) -> int:
        return self.text.count("\n")

    def __iter__(self) -> Iterator[DiffLine]:
        return iter(self._all())

    @overload
    def __getitem__(self, index: int) -> DiffLine: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[DiffLine, ...]: ...

    def __getitem__(self, index: int | slice) -> DiffLine | tuple[DiffLine, ...]:
        return self._all()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HunkLines):
            return self.text == other.text and (self.old_start, self.new_start) == (other.old_start, other.new_start)
        if isinstance(other, tuple):
            return self._all() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


def _numbered(rows: Sequence[str], old_no: int, new_no: int) -> Iterator[DiffLine]:
    for row in rows:
        kind = row[:1]
        if kind == "+":
            yield DiffLine("+", row[1:], None, new_no)
            new_no += 1
        elif kind == "-":
            yield DiffLine("-", row[1:], old_no, None)
            old_no += 1
        else:
            yield DiffLine(" ", row[1:], old_no, new_no)
            old_no += 1
            new_no += 1


@dataclass(frozen=True)
class Hunk:
    id: str
    path: str
    old_path: str | None
    status: FileStatus
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    lines: Sequence[DiffLine]  # a tuple, or HunkLines (the parser's, read on first use)
    commentable: frozenset[int]
    language: str | None

    # Counted once per hunk (the planner's risk order and every report ask again).
    @functools.cached_property
    def added(self) -> int:
        lines = self.lines
        if type(lines) is HunkLines:
            return lines.markers("+")
        return [ln.kind for ln in lines].count("+")

    @functools.cached_property
    def removed(self) -> int:
        lines = self.lines
        if type(lines) is HunkLines:
            return lines.markers("-")
        return [ln.kind for ln in lines].count("-")

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"

    def body(self) -> str:
        """The hunk's lines as unified-diff text (no header)."""
        lines = self.lines
        if type(lines) is HunkLines:
            return lines.text
        return "".join([f"{ln.kind}{ln.text}\n" for ln in lines])

    def rows(self) -> list[str]:
        """Each line as its marker and text: ``body()`` split into lines."""
        lines = self.lines
        if type(lines) is HunkLines:
            return lines.rows()
        return [ln.kind + ln.text for ln in lines]


def hunk_id(path: str, header: str, body: str) -> str:
    """Stable id: hash of path + hunk header + content (DESIGN.md §2)."""
    digest = hashlib.sha256(f"{path}\0{header}\0{body}".encode("utf-8", "surrogatepass")).hexdigest()
    return "h" + digest[:16]


@dataclass(frozen=True)
class FileDiff:
    path: str
    old_path: str | None
    status: FileStatus
    hunks: tuple[Hunk, ...]
    is_binary: bool = False
    language: str | None = None


@dataclass(frozen=True)
class SkippedItem:
    """A file or hunk that was not reviewed, and why. ``hunk_id`` is None for a whole file."""

    path: str
    reason: SkipReason
    detail: str = ""
    hunk_id: str | None = None
    lane: Lane | None = None

    def sort_key(self) -> tuple[str, str, str]:
        return (self.path, self.hunk_id or "", self.reason.value)


@dataclass(frozen=True)
class Diff:
    """A parsed change: the reviewable files and what was set aside while parsing."""

    files: tuple[FileDiff, ...]
    skipped: tuple[SkippedItem, ...] = ()

    @property
    def hunks(self) -> tuple[Hunk, ...]:
        return tuple(h for f in self.files for h in f.hunks)


@dataclass(frozen=True)
class Route:
    """Where one hunk goes and the rule that decided (like ``git check-ignore -v``)."""

    hunk_id: str
    path: str
    lane: Lane
    rule: str  # policy rule name, "SECURITY_PATHS", "exclude", "default" or "escalated-earlier"
    pattern: str | None = None
    matched_path: str | None = None  # which path matched (new, or old for a rename)
    matched_line: str | None = None  # content rules: the line that matched


@dataclass(frozen=True)
class PlannedRequest:
    """One model call the planner intends to make."""

    id: str
    lane: Lane
    hunk_ids: tuple[str, ...]
    estimated_input_tokens: int
    max_output_tokens: int
    clipped: tuple[str, ...] = ()  # hunk ids sent clipped at line boundaries
    clip_at: tuple[tuple[str, int], ...] = ()  # (hunk id, number of hunk lines kept) for clipped hunks

    def lines_kept(self, hunk_id: str) -> int | None:
        """How many of the hunk's lines are sent (None: all of them)."""
        for hid, kept in self.clip_at:
            if hid == hunk_id:
                return kept
        return None

    @property
    def reserved_tokens(self) -> int:
        return self.estimated_input_tokens + self.max_output_tokens


@dataclass(frozen=True)
class Plan:
    requests: tuple[PlannedRequest, ...]
    skipped: tuple[SkippedItem, ...]
    budget_tokens: int
    estimator: str  # "o200k_base" or "conservative"
    escalation_reserve: int = 0  # tokens the general lane left for escalations

    @property
    def reserved_tokens(self) -> int:
        return sum(r.reserved_tokens for r in self.requests)

    def requests_for(self, lane: Lane) -> tuple[PlannedRequest, ...]:
        return tuple(r for r in self.requests if r.lane is lane)


@dataclass(frozen=True)
class Finding:
    rule: str  # category, e.g. "sql-injection" or "secret/github-pat"
    severity: Severity
    confidence: Confidence
    path: str
    start_line: int
    end_line: int
    title: str
    body: str
    source: str  # "model:<id>" or "local:secrets"
    fingerprint: str
    cwe: str | None = None
    fix: str | None = None
    hunk_id: str | None = None
    placed: bool = True  # False: outside the hunk's commentable lines
    lane: Lane | None = None
    # The exact new code for lines start_line..end_line (whole lines, no trailing newline), checked
    # against what the model saw; publishers vet it again (report/suggestion.py) before offering it.
    replacement: str | None = None

    def sort_key(self) -> tuple[int, str, int, str]:
        return (-int(self.severity), self.path, self.start_line, self.fingerprint)


def fingerprint(category: str, path: str, snippet: str) -> str:
    """Hash of category + path + normalised code snippet: stable across line moves."""
    normalised = "\n".join(" ".join(line.split()) for line in snippet.splitlines() if line.strip())
    return hashlib.sha256(f"{category}\0{path}\0{normalised}".encode()).hexdigest()[:32]


class RunState(enum.StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class LaneResolution:
    """Which model serves a lane, and why (from the probe)."""

    lane: Lane
    requested: tuple[str, ...]
    served_by: str | None  # model id, None when nothing could serve it
    served_lane: Lane | None  # the lane whose model serves it (differs on fallback)
    reason: str  # "ok", "fallback: denied (403 ...)", "offline", ...
    access_program: str | None = None
    fell_back: bool = False


@dataclass(frozen=True)
class Escalation:
    """A general-lane hunk the general model asked the security lane to review again, and what came of it.

    ``reason`` is the general model's text, redacted and sanitised: untrusted, shown only
    as escaped text. Exactly one of ``reviewed`` and ``skipped`` holds: the security lane
    reviewed the hunk again, or the escalation was not made, with its reason
    (``over-budget``: it did not fit the budget; ``no-model``: the security lane is not
    served by its own model, so re-sending would only ask the general model again; ...).
    The hunk itself stays reviewed (by the general lane) either way.
    """

    hunk_id: str
    path: str
    reason: RedactedText
    reviewed: bool = False
    skipped: SkipReason | None = None
    detail: str = ""

    def sort_key(self) -> tuple[str, str]:
        return (self.path, self.hunk_id)


@dataclass(frozen=True)
class Coverage:
    hunks_total: int
    hunks_reviewed: int
    skipped_by_reason: tuple[tuple[str, int], ...]
    fell_back: int = 0
    escalated: int = 0  # general-lane hunks the general model escalated
    escalated_reviewed: int = 0  # of those, reviewed again by the security lane
    escalated_over_budget: int = 0  # of those, not afforded (over-budget)
    escalated_not_sent: int = 0  # of those, not reviewed again for another reason (see escalations)
    condensed: int = 0  # reviewed hunks of lockfiles and manifests, sent as their package changes

    @property
    def hunks_skipped(self) -> int:
        return sum(n for _, n in self.skipped_by_reason)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True)
class RunResult:
    """Everything a run decided and did; every report is rendered from this alone."""

    findings: tuple[Finding, ...]
    routes: tuple[Route, ...]
    plan: Plan
    coverage: Coverage
    state: RunState
    lanes: tuple[LaneResolution, ...] = ()
    usage_by_lane: tuple[tuple[str, Usage], ...] = ()
    model_called: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    hunks: tuple[Hunk, ...] = ()  # every parsed hunk, in diff order
    skipped: tuple[SkippedItem, ...] = ()  # everything not reviewed, with its reason (sorted)
    reviewed: tuple[str, ...] = ()  # ids of the hunks a model reviewed
    source: str = ""  # what was reviewed: "patch examples/x.diff", "git diff main...HEAD", "PR #12"
    head_sha: str | None = None
    policy_source: str = ""
    policy_digest: str = ""
    cost_usd: tuple[tuple[str, float], ...] = ()  # lane -> estimated cost
    escalations: tuple[Escalation, ...] = ()  # sorted by path, hunk id
    condensed: tuple[str, ...] = ()  # ids of the hunks sent (or planned) as condensed package changes, sorted

    @property
    def tokens_used(self) -> int:
        return sum(u.total for _, u in self.usage_by_lane)

    @property
    def highest_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)
