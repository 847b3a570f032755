"""The human report in markdown: ``diff --format markdown``, the job summary, the PR summary comment.

It states what was and was not reviewed, so a clean result ("No findings in N
reviewed hunks") can never be confused with an empty one ("Nothing was
reviewed: ..."). Every untrusted string (paths, titles, bodies, rules, model
ids, notes) passes through :mod:`reviewbot.report.sanitize`. Output is
deterministic: everything is sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..models import Finding, Lane, LaneResolution, RunResult, RunState, Severity, Usage
from .sanitize import code_cell, code_span, escape_cell, escape_text

TITLE = "## reviewbot security review"


@dataclass(frozen=True)
class NotInline:
    """A finding that is in the report but not placed as an inline comment, and why."""

    fingerprint: str
    reason: str


@dataclass(frozen=True)
class ResolvedFinding:
    """A finding posted by an earlier run that this run no longer reports."""

    fingerprint: str
    path: str
    line: int | None
    title: str = ""


_STATE_TEXT = {
    RunState.COMPLETE: "complete: every hunk routed to a model lane was reviewed",
    RunState.PARTIAL: "partial: some hunks were not reviewed (see coverage)",
    RunState.FAILED: "failed: the review did not finish",
    RunState.SKIPPED: "skipped: the review did not run",
}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def verdict(result: RunResult) -> str:
    """The one line that says what this run amounts to. Clean and empty never share wording."""
    cov = result.coverage
    findings = len(result.findings)
    if result.state is RunState.SKIPPED:
        return "**Nothing was reviewed: the review was skipped.**"
    if not result.model_called or cov.hunks_reviewed == 0:
        if cov.hunks_total == 0:
            why = "the change has no reviewable hunks"
        elif not result.model_called:
            why = "no model was called"
            reasons = _skip_reasons(result)
            if reasons:
                why += f"; {reasons}"
        else:
            reasons = _skip_reasons(result) or "no reason"
            why = f"all {_plural(cov.hunks_total, 'hunk')} were skipped ({reasons})"
        head = f"**Nothing was reviewed by a model ({why}).**"
        local = sum(1 for f in result.findings if f.source.startswith("local:"))
        if local:
            head += f" Local checks still reported {_plural(local, 'finding')}."
        if findings - local:  # carried by a re-review: reported by earlier runs, code unchanged
            earlier = findings - local
            head += f" {_plural(earlier, 'finding')} of earlier runs {'is' if earlier == 1 else 'are'} still open."
        return head
    if findings == 0:
        return f"**No findings in {_plural(cov.hunks_reviewed, 'reviewed hunk')}.**"
    return (
        f"**{_plural(findings, 'finding')} ({_severity_counts(result.findings)}) "
        f"in {_plural(cov.hunks_reviewed, 'reviewed hunk')}.**"
    )


def _skip_reasons(result: RunResult) -> str:
    parts = [f"{escape_text(reason, max_chars=40, single_line=True)}: {n:,}"
             for reason, n in sorted(result.coverage.skipped_by_reason) if n]
    return ", ".join(parts)


def _severity_counts(findings: Iterable[Finding]) -> str:
    counts: dict[Severity, int] = {}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True))


def _coverage(result: RunResult) -> list[str]:
    cov = result.coverage
    lines = [
        "### Coverage",
        f"- Hunks: {cov.hunks_total:,} total, {cov.hunks_reviewed:,} reviewed, "
        f"{cov.hunks_skipped:,} skipped, {cov.fell_back:,} fell back to the general model",
    ]
    if cov.skipped_by_reason:
        lines.append(f"- Skipped by reason: {_skip_reasons(result) or 'none'}")
    if result.condensed:
        lines.append(
            f"- Dependency changes: {_plural(len(result.condensed), 'hunk')} of lockfiles and manifests condensed "
            f"to their package changes for the model (mode condensed); {cov.condensed:,} of them reviewed"
        )
    if result.model_called or cov.escalated:
        lines.append(escalation_line(result))
    for lane in sorted(result.lanes, key=lambda r: r.lane.value):
        if lane.fell_back:
            served = escape_text(lane.served_by or "nothing", max_chars=80, single_line=True)
            lines.append(
                f"- Fell back: the {lane.lane.value} lane was served by {served}"
                f" ({(lane.served_lane or lane.lane).value} lane) because "
                f"{escape_text(lane.reason, max_chars=300, single_line=True)}"
            )
    return lines


def escalation_line(result: RunResult) -> str:
    """How many hunks the general model escalated, and what came of them (also stated when none)."""
    cov = result.coverage
    line = (
        f"- Escalated by the general model: {_plural(cov.escalated, 'hunk')}; "
        f"{cov.escalated_reviewed:,} reviewed again by the security lane, "
        f"{cov.escalated_over_budget:,} not afforded (over budget)"
    )
    if cov.escalated_not_sent:
        line += f", {cov.escalated_not_sent:,} not sent (see Escalations)"
    return line


MAX_ESCALATIONS_LISTED = 50


def _escalation_lines(result: RunResult) -> list[str]:
    """Each escalation, its outcome and the model's reason (untrusted: escaped, one line, capped)."""
    if not result.escalations:
        return []
    lines = ["### Escalations", "Hunks the general model asked the security lane to review again:"]
    for e in result.escalations[:MAX_ESCALATIONS_LISTED]:
        if e.reviewed:
            outcome = "reviewed again by the security lane"
        else:
            why = e.skipped.value if e.skipped else "not sent"
            outcome = f"not reviewed again ({escape_text(why, max_chars=40, single_line=True)})"
            if e.detail:
                outcome += f": {escape_text(e.detail, max_chars=200, single_line=True)}"
        lines.append(
            f"- {code_span(e.path)} hunk {code_span(e.hunk_id, max_chars=40)} — {outcome}. "
            f"Reason given: {escape_text(e.reason, max_chars=300, single_line=True)}"
        )
    if len(result.escalations) > MAX_ESCALATIONS_LISTED:
        more = len(result.escalations) - MAX_ESCALATIONS_LISTED
        lines.append(f"- …and {_plural(more, 'more escalation')} (the JSON report lists every one)")
    return lines


def _lanes(lanes: Sequence[LaneResolution]) -> list[str]:
    if not lanes:
        return ["### Models", "No model lane was resolved."]
    lines = [
        "### Models",
        "| Lane | Requested | Served by | Access program | Why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in sorted(lanes, key=lambda r: r.lane.value):
        requested = ", ".join(code_cell(m, max_chars=80) for m in r.requested) or "none"
        served = code_cell(r.served_by, max_chars=80) if r.served_by else "nothing"
        program = code_cell(r.access_program, max_chars=40) if r.access_program else "default"
        why = escape_cell(r.reason, max_chars=200)
        lines.append(f"| {r.lane.value} | {requested} | {served} | {program} | {why} |")
    return lines


def _budget(result: RunResult, estimated_cost_usd: float | None, extra: Sequence[str] = ()) -> list[str]:
    total = Usage()
    for _, usage in result.usage_by_lane:
        total = total + usage
    budget = result.plan.budget_tokens
    lines = [
        "### Budget",
        f"- Tokens used: {total.total:,} of {budget:,} "
        f"(input {total.input_tokens:,}, of which cached {total.cached_tokens:,}; "
        f"output {total.output_tokens:,})",
    ]
    for lane, usage in sorted(result.usage_by_lane):
        lines.append(
            f"- {escape_text(lane, max_chars=40, single_line=True)} lane: {usage.total:,} tokens "
            f"(input {usage.input_tokens:,}, cached {usage.cached_tokens:,}, output {usage.output_tokens:,})"
        )
    if estimated_cost_usd is None:
        lines.append("- Estimated cost: not estimated (no price known for the models used)")
    else:
        lines.append(f"- Estimated cost: about ${estimated_cost_usd:,.4f}")
    if result.plan.escalation_reserve:
        lines.append(
            f"- Kept free by the general lane for escalations: {result.plan.escalation_reserve:,} tokens "
            "(budget.reserve_for_escalation)"
        )
    lines.append(f"- Token estimates: {escape_text(result.plan.estimator, max_chars=40, single_line=True)}")
    lines += [f"- {escape_text(line, max_chars=500, single_line=True)}" for line in extra]
    return lines


def location(f: Finding) -> str:
    if f.end_line > f.start_line:
        return f"{code_span(f.path)} lines {f.start_line}–{f.end_line}"
    return f"{code_span(f.path)} line {f.start_line}"


def finding_block(f: Finding, index: int) -> str:
    cwe = f" · {escape_text(f.cwe, max_chars=20, single_line=True)}" if f.cwe else ""
    lane = f" · {f.lane.value} lane" if isinstance(f.lane, Lane) else ""
    parts = [
        f"#### {index}. {f.severity.label.upper()} · {f.confidence.label} confidence{cwe} — "
        f"{escape_text(f.title, max_chars=200, single_line=True)}",
        f"{location(f)} · rule {code_span(f.rule, max_chars=80)} · source "
        f"{code_span(f.source, max_chars=80)}{lane}",
        "",
        escape_text(f.body, max_chars=3000),
    ]
    if f.fix:
        parts += ["", f"**Fix:** {escape_text(f.fix, max_chars=2000)}"]
    return "\n".join(parts)


def _not_inline_lines(findings: Sequence[Finding], not_inline: Sequence[NotInline]) -> list[str]:
    by_fp = {f.fingerprint: f for f in findings}
    reasons: dict[str, str] = {}
    for finding in findings:
        if not finding.placed:
            reasons[finding.fingerprint] = "its lines are outside the diff's commentable lines"
    for item in not_inline:
        reasons[item.fingerprint] = item.reason
    if not reasons:
        return []
    lines = ["### Findings not placed inline"]
    for fp in sorted(reasons, key=lambda k: by_fp[k].sort_key() if k in by_fp else (9, k, 0, k)):
        found = by_fp.get(fp)
        if found is not None:
            title = escape_text(found.title, max_chars=200, single_line=True)
            what = f"{found.severity.label.upper()} {location(found)}: {title}"
        else:
            what = code_span(fp)
        lines.append(f"- {what} — {escape_text(reasons[fp], max_chars=300, single_line=True)}")
    return lines


def _resolved_lines(resolved: Sequence[ResolvedFinding]) -> list[str]:
    if not resolved:
        return []
    lines = ["### Resolved since an earlier run"]
    for r in sorted(resolved, key=lambda r: (r.path, r.line or 0, r.fingerprint)):
        where = f"{code_span(r.path)} line {r.line}" if r.line else code_span(r.path)
        title = f": {escape_text(r.title, max_chars=200, single_line=True)}" if r.title else ""
        lines.append(f"- ~~{where}~~ resolved (no longer reported){title}")
    return lines


def render_markdown(
    result: RunResult,
    *,
    max_chars: int | None = None,
    not_inline: Sequence[NotInline] = (),
    resolved: Sequence[ResolvedFinding] = (),
    notices: Sequence[str] = (),
    estimated_cost_usd: float | None = None,
    title: str = TITLE,
    scope: str | None = None,
    budget_lines: Sequence[str] = (),
) -> str:
    """The report. ``max_chars`` caps the length: the lowest-severity findings' details go first, with a note.

    ``not_inline``, ``resolved`` and ``notices`` come from the publisher (422-rejected
    comments, findings of earlier runs, "token is read-only" and the like); ``scope`` says
    which part of a pull request a re-review covered and ``budget_lines`` add the per-PR
    budget; all are escaped like every other string.
    """
    head: list[str] = [title, "", verdict(result), "", f"**State:** {_STATE_TEXT[result.state]}"]
    if scope:  # which part of the pull request this run reviewed (re-reviews)
        head += ["", f"**Scope:** {escape_text(scope, max_chars=500, single_line=True)}"]
    for notice in sorted(set(notices)):
        head += ["", f"> {escape_text(notice, max_chars=500, single_line=True)}"]
    head += ["", *_coverage(result), "", *_lanes(result.lanes), "", *_budget(result, estimated_cost_usd, budget_lines)]
    tail: list[str] = []
    extra = _not_inline_lines(result.findings, not_inline)
    if extra:
        tail += ["", *extra]
    rsv = _resolved_lines(resolved)
    if rsv:
        tail += ["", *rsv]
    esc = _escalation_lines(result)
    if esc:
        tail += ["", *esc]
    if result.notes:
        tail += ["", "### Notes", *(f"- {escape_text(n, max_chars=500, single_line=True)}"
                                     for n in sorted(set(result.notes)))]

    findings = sorted(result.findings, key=Finding.sort_key)
    blocks = [finding_block(f, i) for i, f in enumerate(findings, 1)]
    head_text = "\n".join(head)
    tail_text = "\n".join(tail)

    def assemble(shown: int) -> str:
        parts = [head_text]
        if findings:
            parts += ["", "### Findings", "", "\n\n".join(blocks[:shown])]
            if shown < len(blocks):
                more = _plural(len(blocks) - shown, "more finding")
                parts += ["", f"_{more} not shown here (length limit): "
                          "the job summary and the JSON report list every finding._"]
        text = "\n".join(parts) + ("\n" + tail_text if tail_text else "")
        return text.rstrip() + "\n"

    text = assemble(len(blocks))
    if max_chars is None or len(text) <= max_chars:
        return text
    lo, hi = 0, len(blocks)
    while lo < hi:  # the most findings that fit
        mid = (lo + hi + 1) // 2
        if len(assemble(mid)) <= max_chars:
            lo = mid
        else:
            hi = mid - 1
    text = assemble(lo)
    if len(text) > max_chars:
        note = "\n\n_Report cut at the length limit._\n"
        cut = text.rfind("\n", 0, max(0, max_chars - len(note)))
        text = (text[: max(cut, 0)] + note)[:max_chars]
    return text
