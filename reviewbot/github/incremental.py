"""Incremental re-review (DESIGN.md §5a): which of the PR's hunks a push makes worth reviewing again.

Pure functions over :class:`~reviewbot.models.Diff` values:

* :func:`select_hunks`: of the PR's own diff (base...head), the hunks that touch a line
  changed since the last reviewed head (the compare last...head), by the one rule
  :mod:`reviewbot.diff.since` also applies to ``reviewbot diff --since``; hunks an
  earlier run left unreviewed (their content keys) are selected too.
* :func:`carry_findings`: earlier findings whose code is still in the PR's diff and was
  not reviewed again stay open (never reposted); those the model saw again and no longer
  reports, or whose code is gone, are resolved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..diff.since import changes_since, touches
from ..models import Diff, Finding, Hunk
from ..report.markdown import ResolvedFinding
from .state import OpenFinding


def content_key(hunk: Hunk) -> str:
    """Path and lines, without the header: the same hunk keeps its key when edits above shift it."""
    return hashlib.sha256(f"{hunk.path}\0{hunk.body()}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass(frozen=True)
class Selection:
    selected: tuple[str, ...]  # hunk ids, in diff order
    changed: int  # selected because a line changed since the last head
    carried: int  # selected because an earlier run left them unreviewed
    earlier: int  # PR hunks not selected: reviewed in earlier runs


def select_hunks(pr: Diff, delta: Diff, carry_keys: Iterable[str] = ()) -> Selection:
    changes = changes_since(delta)
    carry = set(carry_keys)
    selected: list[str] = []
    changed = carried = 0
    for h in pr.hunks:
        if touches(h, changes):
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
