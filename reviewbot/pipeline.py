"""The pipeline (DESIGN.md §1): route, redact, plan, then review or stop, and account for every hunk.

``prepare`` does the pure, offline part (routing, local secret findings, the budget plan);
``finish`` turns what happened into a ``RunResult`` whose coverage always adds up: every
hunk parsed is either reviewed or skipped with a reason. Model review plugs in between
(``reviewbot.lanes``); without it the planned hunks are recorded as not reviewed
(``offline`` or ``dry-run``), never as clean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from .audit import AuditLog
from .gcpause import paused_gc
from .lanes.condensed import condense_hunks
from .lanes.prompt import PromptHunk, condensed_note_tokens, fixed_prompt_text, hunk_text
from .models import (
    Coverage,
    Diff,
    Escalation,
    Finding,
    Hunk,
    Lane,
    LaneResolution,
    Plan,
    RedactedText,
    Route,
    RunResult,
    RunState,
    SkippedItem,
    SkipReason,
    Usage,
)
from .planner import LANE_ORDER, PlanItem, plan
from .policy.model import Policy
from .redact import Redactor, secret_findings
from .router import Router
from .tokens import Estimator


@dataclass(frozen=True)
class Prepared:
    diff: Diff
    routes: tuple[Route, ...]
    route_skips: tuple[SkippedItem, ...]
    items: tuple[PlanItem, ...]
    local_findings: tuple[Finding, ...]
    plan: Plan
    hunks_by_id: Mapping[str, Hunk]
    texts: Mapping[str, RedactedText]  # redacted diff body per routed hunk
    # Dependency hunks sent as their package changes (mode condensed), and what the condensing noted.
    condensed: Mapping[str, PromptHunk] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


ESCALATED_RULE = "escalated-earlier"


def _owed(route: Route) -> Route:
    return Route(route.hunk_id, route.path, Lane.SECURITY, ESCALATED_RULE, None, route.path, None)


@paused_gc
def prepare(
    diff: Diff,
    policy: Policy,
    *,
    redactor: Redactor,
    estimator: Estimator,
    budget_tokens: int,
    audit: AuditLog,
    prompt_overhead: Mapping[Lane, int] | None = None,
    reserve_for_escalation: int = 0,
    owed_security: Collection[str] = (),
) -> Prepared:
    """Route, redact and plan ``diff``.

    ``owed_security``: ids of hunks an earlier run's general model escalated whose security review is
    still owed (the Action's state carries them): routed to the security lane (rule
    :data:`ESCALATED_RULE`) unless the policy skips them.
    """
    counted_before = Counter(dict(redactor.counts()))  # the redactor may have masked text already
    routes, route_skips = Router(policy).route_diff(diff)
    if owed_security:
        routes = tuple(_owed(r) if r.hunk_id in owed_security and r.lane is Lane.GENERAL else r for r in routes)
    for route in routes:
        audit.append(
            "route",
            hunk=route.hunk_id,
            path=route.path,
            lane=route.lane.value,
            rule=route.rule,
            pattern=route.pattern,
            matched_path=route.matched_path,
            matched_line=route.matched_line,
        )
    hunks_by_id = {h.id: h for h in diff.hunks}
    # Each hunk is redacted once: the prompt text and the local secret findings share it.
    redacted = {h.id: redactor.redact(h.body()) for h in diff.hunks}
    deps = condense_hunks(diff, routes, redactor=redactor, redacted=redacted)
    if deps.files:
        audit.append("condensed", hunks=sorted(deps.prompts), raw=list(deps.raw), changes=deps.changes)
    texts: dict[str, RedactedText] = {}
    path_tokens: dict[str, int] = {}
    note_tokens: int | None = None
    items = []
    for route in routes:
        if route.lane is Lane.SKIP:
            continue
        hunk = hunks_by_id[route.hunk_id]
        body = redacted[hunk.id].text
        texts[hunk.id] = body
        path = redactor.scrub(hunk.path)
        # Estimated on exactly the text the model lanes will send for this hunk.
        condensed = deps.prompts.get(hunk.id)
        shown = condensed.text() if condensed is not None else hunk_text(hunk, body)
        if path not in path_tokens:  # hunks of one file share the count of its path
            path_tokens[path] = estimator.count(path)
        # A condensed hunk's request also carries the instructions' note on condensed hunks.
        note = 0
        if condensed is not None:
            if note_tokens is None:
                note_tokens = condensed_note_tokens(estimator.count)
            note = note_tokens
        items.append(PlanItem(hunk, route.lane, shown, fixed_tokens=path_tokens[path], request_tokens=note))
    # What this stage masked: the redactor counts every occurrence it ever replaced, and the same
    # diff may have been prepared before (the Action checks that a call fits a remaining budget).
    audit.append("redaction", counts=dict(sorted((Counter(dict(redactor.counts())) - counted_before).items())))

    local = secret_findings(diff, redactor, redacted)
    overhead = dict(prompt_overhead or {lane: estimator.count(fixed_prompt_text(lane)) for lane in LANE_ORDER})
    the_plan = plan(
        items,
        budget=policy.budget,
        budget_tokens=budget_tokens,
        count=estimator.count,
        prompt_overhead=overhead,
        estimator=estimator.name,
        reserve_for_escalation=reserve_for_escalation,
    )
    audit.append(
        "plan",
        budget_tokens=the_plan.budget_tokens,
        estimator=the_plan.estimator,
        reserved_tokens=the_plan.reserved_tokens,
        escalation_reserve=the_plan.escalation_reserve,
        requests=[
            {
                "id": r.id,
                "lane": r.lane.value,
                "hunks": list(r.hunk_ids),
                "estimated_input_tokens": r.estimated_input_tokens,
                "max_output_tokens": r.max_output_tokens,
                "clipped": list(r.clipped),
            }
            for r in the_plan.requests
        ],
        skipped=[{"hunk": s.hunk_id, "path": s.path, "reason": s.reason.value} for s in the_plan.skipped],
    )
    return Prepared(
        diff, routes, route_skips, tuple(items), local, the_plan, hunks_by_id, texts, deps.prompts, deps.notes
    )


def not_reviewed(prepared: Prepared, reason: SkipReason, detail: str) -> tuple[SkippedItem, ...]:
    """Planned hunks that were not sent, e.g. offline: each one skipped with ``reason``."""
    return tuple(
        SkippedItem(path=prepared.hunks_by_id[hid].path, reason=reason, detail=detail, hunk_id=hid, lane=req.lane)
        for req in prepared.plan.requests
        for hid in req.hunk_ids
    )


def coverage_of(
    diff: Diff,
    skipped: Sequence[SkippedItem],
    reviewed: Sequence[str],
    fell_back: int = 0,
    escalations: Sequence[Escalation] = (),
    condensed: Collection[str] = (),
) -> Coverage:
    """Units are hunks, plus one per item the source set aside: a file whole (binary, deleted,
    mode-only, ...) or a hunk it left out (``unchanged-since``).

    Escalations are counted on top: an escalated hunk was reviewed by the general lane
    whether or not the security lane afforded it a second review. ``condensed``: the hunks sent
    as their package changes; those reviewed count as reviewed in mode condensed.
    """
    total = len(diff.hunks) + len(diff.skipped)
    by_reason = Counter(s.reason.value for s in skipped)
    over = sum(1 for e in escalations if e.skipped is SkipReason.OVER_BUDGET)
    again = sum(1 for e in escalations if e.reviewed)
    return Coverage(
        hunks_total=total,
        hunks_reviewed=len(set(reviewed)),
        skipped_by_reason=tuple(sorted(by_reason.items())),
        fell_back=fell_back,
        escalated=len(escalations),
        escalated_reviewed=again,
        escalated_over_budget=over,
        escalated_not_sent=len(escalations) - again - over,
        condensed=len(set(reviewed) & set(condensed)),
    )


def finish(
    prepared: Prepared,
    policy: Policy,
    *,
    source: str,
    head_sha: str | None,
    audit: AuditLog,
    model_findings: Sequence[Finding] = (),
    reviewed: Sequence[str] = (),
    review_skips: Sequence[SkippedItem] = (),
    lanes: Sequence[LaneResolution] = (),
    usage_by_lane: Mapping[str, Usage] | None = None,
    cost_usd: Mapping[str, float] | None = None,
    model_called: bool = False,
    fell_back: int = 0,
    notes: Sequence[str] = (),
    failed: bool = False,
    escalations: Sequence[Escalation] = (),
) -> RunResult:
    skipped = tuple(
        sorted(
            (*prepared.diff.skipped, *prepared.route_skips, *prepared.plan.skipped, *review_skips),
            key=SkippedItem.sort_key,
        )
    )
    escalated = tuple(sorted(escalations, key=Escalation.sort_key))
    coverage = coverage_of(prepared.diff, skipped, reviewed, fell_back, escalated, prepared.condensed)
    assert coverage.hunks_reviewed + coverage.hunks_skipped == coverage.hunks_total, (
        f"coverage does not add up: {coverage}"
    )
    findings = tuple(sorted({f.fingerprint: f for f in (*prepared.local_findings, *model_findings)}.values(),
                            key=Finding.sort_key))
    if failed:
        state = RunState.FAILED
    elif coverage.hunks_total == 0:
        state = RunState.COMPLETE
    elif any(s.reason not in _EXPECTED_SKIPS for s in skipped):
        state = RunState.PARTIAL
    else:
        state = RunState.COMPLETE
    result = RunResult(
        findings=findings,
        routes=prepared.routes,
        plan=prepared.plan,
        coverage=coverage,
        state=state,
        lanes=tuple(lanes),
        usage_by_lane=tuple(sorted((usage_by_lane or {}).items())),
        model_called=model_called,
        notes=(*prepared.notes, *notes),
        hunks=prepared.diff.hunks,
        skipped=skipped,
        reviewed=tuple(sorted(set(reviewed))),
        source=source,
        head_sha=head_sha,
        policy_source=policy.source,
        policy_digest=policy.digest,
        cost_usd=tuple(sorted((cost_usd or {}).items())),
        escalations=escalated,
        condensed=tuple(sorted(prepared.condensed)),
    )
    for esc in escalated:  # the model's reason is not logged: the audit holds decisions, not model text
        audit.append(
            "escalation",
            hunk=esc.hunk_id,
            path=esc.path,
            outcome="reviewed" if esc.reviewed else "skipped",
            reason=esc.skipped.value if esc.skipped else None,
            detail=esc.detail,
        )
    for finding in findings:
        audit.append(
            "finding",
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            severity=finding.severity.label,
            path=finding.path,
            start_line=finding.start_line,
            end_line=finding.end_line,
            source=finding.source,
        )
    audit.append(
        "run_end",
        state=state.value,
        coverage={
            "hunks_total": coverage.hunks_total,
            "hunks_reviewed": coverage.hunks_reviewed,
            "skipped": dict(coverage.skipped_by_reason),
            "fell_back": coverage.fell_back,
            "escalated": coverage.escalated,
            "escalated_reviewed": coverage.escalated_reviewed,
            "escalated_over_budget": coverage.escalated_over_budget,
            "escalated_not_sent": coverage.escalated_not_sent,
            "condensed": coverage.condensed,
        },
        tokens_used=result.tokens_used,
        findings=len(findings),
    )
    return result


# Skips that are decisions of the policy or facts of the diff, not a shortfall of the review.
_EXPECTED_SKIPS = frozenset(
    {
        SkipReason.EXCLUDED,
        SkipReason.SKIP_ROUTE,
        SkipReason.BINARY,
        SkipReason.GENERATED,
        SkipReason.DELETED_ONLY,
        SkipReason.MODE_ONLY,
        SkipReason.RENAME_ONLY,
        SkipReason.COPY_ONLY,
        SkipReason.EMPTY,
        SkipReason.SUBMODULE,
        SkipReason.UNCHANGED_SINCE,  # the user scoped the run with --since
    }
)


def security_incomplete(result: RunResult) -> bool:
    """True when a security-lane hunk was not reviewed (for ``fail_on.incomplete``)."""
    return any(s.lane is Lane.SECURITY and s.reason not in _EXPECTED_SKIPS for s in result.skipped)


Progress = Callable[[str], None]
