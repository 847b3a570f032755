"""Incremental re-review (DESIGN.md §5a): which of the PR's hunks a push makes worth reviewing again.

Pure functions over :class:`~reviewbot.models.Diff` values:

* :func:`select_hunks`: of the PR's own diff (base...head), the hunks that touch a line
  changed since the last reviewed head (the compare last...head): an added line by its
  head line number must be an added line of the PR hunk; a pure deletion counts for the
  PR hunk at that position. A merge of the base branch therefore selects nothing of the
  base's. Hunks an earlier run left unreviewed (their content keys) are selected too.
* :func:`carry_findings`: earlier findings whose code is still in the PR's diff and was
  not reviewed again stay open (never reposted); those the model saw again and no longer
  reports, or whose code is gone, are resolved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..models import Diff, FileStatus, Finding, Hunk, SkipReason
from ..report.markdown import ResolvedFinding
from .state import OpenFinding

# A delta file set aside for one of these reasons changed in a way we cannot see line by line.
_OPAQUE = frozenset({SkipReason.NO_PATCH, SkipReason.RENAME_ONLY, SkipReason.COPY_ONLY, SkipReason.MODE_ONLY})


def content_key(hunk: Hunk) -> str:
    """Path and lines, without the header: the same hunk keeps its key when edits above shift it."""
    return hashlib.sha256(f"{hunk.path}\0{hunk.body()}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass(frozen=True)
class Changes:
    """Lines changed since the last reviewed head, per path, on the head side."""

    added: dict[str, frozenset[int]]
    gaps: dict[str, frozenset[int]]  # a deletion sits just before this head line
    whole: frozenset[str]  # paths changed in a way not visible per line (no patch, renamed)


def changed_lines(delta: Diff) -> Changes:
    added: dict[str, set[int]] = {}
    gaps: dict[str, set[int]] = {}
    whole: set[str] = set()
    for f in delta.files:
        if f.status in (FileStatus.RENAMED, FileStatus.COPIED):
            whole.add(f.path)
        for h in f.hunks:
            next_new = h.new_start
            pending = False
            for ln in h.lines:
                if ln.kind == "-":
                    pending = True
                    continue
                if ln.new_no is not None:
                    if pending and ln.kind != "+":  # a pure deletion (a - run replaced by + lines is an edit)
                        gaps.setdefault(f.path, set()).add(ln.new_no)
                    pending = False
                    if ln.kind == "+":
                        added.setdefault(f.path, set()).add(ln.new_no)
                    next_new = ln.new_no + 1
            if pending:
                gaps.setdefault(f.path, set()).add(next_new)
    for s in delta.skipped:
        if s.hunk_id is None and s.reason in _OPAQUE:
            whole.add(s.path)
    return Changes(
        {p: frozenset(v) for p, v in added.items()}, {p: frozenset(v) for p, v in gaps.items()}, frozenset(whole)
    )


def _touches(hunk: Hunk, changes: Changes) -> bool:
    if hunk.path in changes.whole:
        return True
    added = changes.added.get(hunk.path, frozenset())
    if any(ln.kind == "+" and ln.new_no in added for ln in hunk.lines):
        return True
    gaps = changes.gaps.get(hunk.path, frozenset())
    if not gaps:
        return False
    # A deletion since the last head counts for this hunk when it sits next to the hunk's own changes.
    mine: set[int] = set()
    pending = False
    for ln in hunk.lines:
        if ln.kind == "-":
            pending = True
            continue
        if ln.new_no is None:
            continue
        if pending:
            mine.add(ln.new_no)
            pending = False
        if ln.kind == "+":
            mine.update((ln.new_no, ln.new_no + 1))
    if pending or hunk.new_len == 0:
        mine.add(hunk.new_start + hunk.new_len)
    return bool(mine & gaps)


@dataclass(frozen=True)
class Selection:
    selected: tuple[str, ...]  # hunk ids, in diff order
    changed: int  # selected because a line changed since the last head
    carried: int  # selected because an earlier run left them unreviewed
    earlier: int  # PR hunks not selected: reviewed in earlier runs


def select_hunks(pr: Diff, delta: Diff, carry_keys: Iterable[str] = ()) -> Selection:
    changes = changed_lines(delta)
    carry = set(carry_keys)
    selected: list[str] = []
    changed = carried = 0
    for h in pr.hunks:
        if _touches(h, changes):
            selected.append(h.id)
            changed += 1
        elif content_key(h) in carry:
            selected.append(h.id)
            carried += 1
    return Selection(tuple(selected), changed, carried, len(pr.hunks) - len(selected))


def subset(pr: Diff, hunk_ids: Iterable[str]) -> Diff:
    """The PR's diff with only the given hunks (files left without a hunk are dropped)."""
    keep = set(hunk_ids)
    files = []
    for f in pr.files:
        hunks = tuple(h for h in f.hunks if h.id in keep)
        if hunks:
            files.append(type(f)(f.path, f.old_path, f.status, hunks, f.is_binary, f.language))
    return Diff(files=tuple(files), skipped=pr.skipped)


# ----------------------------------------------------------------------------- findings across runs


def _norm(text: str) -> str:
    return " ".join(text.split())


def _new_side(hunk: Hunk) -> list[tuple[int, str]]:
    return [(ln.new_no, ln.text) for ln in hunk.lines if ln.kind != "-" and ln.new_no is not None]


def _code_hash(texts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(_norm(t) for t in texts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def code_of(finding: Finding, diff: Diff) -> tuple[str, int] | None:
    """The hash of the new-side lines a finding sits on, and how many: None when they are not in the diff."""
    for h in diff.hunks:
        if h.path != finding.path:
            continue
        lines = [text for no, text in _new_side(h) if finding.start_line <= no <= finding.end_line]
        if lines:
            return _code_hash(lines), len(lines)
    return None


def locate(code: str, n: int, path: str, diff: Diff) -> tuple[Hunk, int, int] | None:
    """Where lines hashing to ``code`` are now: (hunk, first line, last line), or None when gone."""
    for h in diff.hunks:
        if h.path != path:
            continue
        side = _new_side(h)
        for i in range(0, max(0, len(side) - n + 1)):
            window = side[i : i + n]
            if _code_hash([t for _, t in window]) == code:
                return h, window[0][0], window[-1][0]
    return None


def open_finding(finding: Finding, diff: Diff) -> OpenFinding | None:
    where = code_of(finding, diff)
    if where is None:
        return None
    code, n = where
    return OpenFinding(finding.fingerprint, finding.rule, finding.severity, finding.path, finding.start_line,
                       finding.end_line, code, n, finding.cwe, finding.confidence,
                       finding.source[:100])


EARLIER_BODY = "Reported by an earlier run on this pull request; its inline comment has the details."


@dataclass(frozen=True)
class Carried:
    findings: tuple[Finding, ...]  # earlier findings still open, at their lines in the current diff
    resolved: tuple[ResolvedFinding, ...]


def carry_findings(
    earlier: Sequence[OpenFinding], current: Sequence[Finding], reviewed_hunk_ids: Iterable[str], pr: Diff
) -> Carried:
    """Earlier open findings against this run: still open, superseded (reported again) or resolved."""
    now = {f.fingerprint for f in current}
    reviewed = set(reviewed_hunk_ids)
    kept: list[Finding] = []
    resolved: list[ResolvedFinding] = []
    for e in sorted(earlier, key=lambda e: e.fingerprint):
        if e.fingerprint in now:
            continue
        where = locate(e.code, e.lines, e.path, pr)
        if where is None or where[0].id in reviewed:
            resolved.append(ResolvedFinding(e.fingerprint, e.path, e.end_line))
            continue
        hunk, start, end = where
        kept.append(Finding(
            rule=e.rule, severity=e.severity, confidence=e.confidence, path=e.path, start_line=start,
            end_line=end, title=f"{e.rule} (reported in an earlier run)", body=EARLIER_BODY, source=e.source,
            fingerprint=e.fingerprint, cwe=e.cwe, hunk_id=hunk.id,
        ))
    return Carried(tuple(kept), tuple(resolved))
