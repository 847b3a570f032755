"""A run with the model lanes: probe, plan within what the probe left, review, account.

Order matters for the budget: the probe's tokens are charged to the same ledger as the
review calls, and the plan is made against what remains after the probe, so the run as
a whole never spends more than ``budget_tokens``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

from .audit import AuditLog
from .lanes.client import lane_endpoint
from .lanes.engine import Engine, Progress
from .lanes.errors import AccessProgramError, fatal_error
from .lanes.escalation import EscalationPass, escalate, security_served_by_itself
from .lanes.ledger import Ledger
from .lanes.probe import PROBE_TIMEOUT, Prober
from .lanes.prompt import fixed_prompt_text
from .lanes.prompt import safety_identifier as make_safety_identifier
from .lanes.reviewer import OpenAIReviewer, Reviewer
from .models import Diff, Lane, LaneResolution, RedactedText, RunResult, SkipReason, Usage
from .pipeline import finish, not_reviewed, prepare
from .planner import escalation_reserve
from .policy.model import Policy
from .redact import Redactor
from .tokens import get_estimator


def estimate_cost(policy: Policy, lanes: Sequence[LaneResolution], usage: Mapping[str, Usage]) -> dict[str, float]:
    """USD per lane from the policy's prices for the model that served it (lanes without a price: absent)."""
    served = {r.lane.value: r.served_by for r in lanes}
    costs: dict[str, float] = {}
    for lane, used in usage.items():
        model = served.get(lane)
        price = policy.price(model) if model else None
        if price is None:
            continue
        cached = used.cached_tokens
        cached_price = price.cached_input if price.cached_input is not None else price.input
        costs[lane] = (
            (used.input_tokens - cached) * price.input + cached * cached_price + used.output_tokens * price.output
        ) / 1_000_000
    return costs


def _memo(fn: Callable[[str], RedactedText]) -> Callable[[str], RedactedText]:
    """The engine redacts each hunk again; the pipeline already did: reuse, don't rescan."""
    cache: dict[str, RedactedText] = {}
    lock = threading.Lock()

    def wrapped(text: str) -> RedactedText:
        with lock:
            hit = cache.get(text)
        if hit is None:
            hit = fn(text)
            with lock:
                cache[text] = hit
        return hit

    return wrapped


def review_with_models(
    diff: Diff,
    policy: Policy,
    *,
    env: Mapping[str, str],
    redactor: Redactor,
    audit: AuditLog,
    source: str,
    head_sha: str | None,
    budget_tokens: int,
    progress: Callable[[str], None],
    safety_identifier: str | None,
    notes: Sequence[str],
    reviewer: Reviewer | None = None,
    owed_security: Collection[str] = (),
) -> RunResult:
    notes = list(notes)
    endpoints = {cfg.name: ep for cfg in policy.lanes if (ep := lane_endpoint(cfg.name, env)) is not None}
    reviewer = reviewer or OpenAIReviewer(endpoints)
    ledger = Ledger(budget_tokens, audit=audit)
    estimator = get_estimator(allow_download=True)

    progress("reviewbot: probing which model serves each lane")
    report = Prober(
        policy, reviewer, ledger=ledger, audit=audit, timeout=min(PROBE_TIMEOUT, policy.review.timeout_seconds)
    ).run()
    error: Exception | None = None
    if report.fatal:
        key_source, classified = report.fatal[0]
        error = fatal_error(classified, key_source=key_source)
    elif report.config_errors:
        error = AccessProgramError(
            report.config_errors[0],
            hint="the access program must match the model (both cyber models take daybreak_red)",
        )
    if error is not None:
        # The run stops at the probe; its audit log still ends with run_end (state failed),
        # so `audit verify` can tell a run that stopped from a log that was cut short.
        stopped = prepare(
            diff, policy, redactor=redactor, estimator=estimator, budget_tokens=ledger.snapshot().remaining,
            audit=audit, owed_security=owed_security,
        )
        probe_usage = dict(ledger.snapshot().by_lane)
        finish(
            stopped, policy, source=source, head_sha=head_sha, audit=audit,
            review_skips=not_reviewed(stopped, SkipReason.FAILED, f"the probe stopped the run: {error}"),
            lanes=report.resolutions, usage_by_lane=probe_usage, model_called=bool(probe_usage),
            notes=notes, failed=True,
        )
        raise error
    resolutions = report.resolutions
    for res in resolutions:
        if res.fell_back:
            notes.append(f"{res.lane.value} lane fell back to {res.served_by}: {res.reason}")
        elif res.served_by is None:
            notes.append(f"{res.lane.value} lane: no model could serve it ({res.reason})")

    remaining = ledger.snapshot().remaining
    general_served = any(r.lane is Lane.GENERAL and r.served_by is not None for r in resolutions)
    security = next((r for r in resolutions if r.lane is Lane.SECURITY), None)
    # Keep a share for escalations only when one could be made: the general lane has a model to
    # ask, and the security lane its own model to answer (a fallback would ask the general one again).
    reserve = (
        min(remaining, escalation_reserve(policy.budget, budget_tokens))
        if general_served and security_served_by_itself(security)
        else 0
    )
    prepared = prepare(
        diff, policy, redactor=redactor, estimator=estimator, budget_tokens=remaining, audit=audit,
        reserve_for_escalation=reserve, owed_security=owed_security,
    )
    unserved = {r.lane for r in resolutions if r.served_by is None}
    servable = [r for r in prepared.plan.requests if r.lane not in unserved]
    no_model = [
        s
        for s in not_reviewed(prepared, SkipReason.NO_MODEL, "no model could serve this lane")
        if s.lane in unserved
    ]
    if not servable:
        result_usage = dict(ledger.snapshot().by_lane)
        return finish(
            prepared, policy, source=source, head_sha=head_sha, audit=audit, review_skips=no_model,
            lanes=resolutions, usage_by_lane=result_usage, cost_usd=estimate_cost(policy, resolutions, result_usage),
            model_called=bool(result_usage), notes=notes,
        )

    total = len(servable)
    progress(f"reviewbot: {total} request(s) to send")

    def on_progress(p: Progress) -> None:
        progress(f"reviewbot: [{p.done}/{p.total}] {p.request_id}: {p.outcome}")

    engine = Engine(
        policy,
        reviewer,
        resolutions=resolutions,
        ledger=ledger,
        audit=audit,
        redact=_memo(lambda text: redactor.redact(text).text),
        scrub=redactor.scrub,
        safety_identifier=safety_identifier or make_safety_identifier(source, "local"),
        estimate=estimator.count,
        progress=on_progress,
        condensed=prepared.condensed,
    )
    outcome = engine.run(replace(prepared.plan, requests=tuple(servable)), prepared.hunks_by_id)
    escalated = EscalationPass((), None)
    if outcome.fatal is None:
        escalated = escalate(
            engine,
            outcome,
            policy=policy,
            items=prepared.items,
            hunks=prepared.hunks_by_id,
            remaining=ledger.snapshot().remaining,
            count=estimator.count,
            overhead=estimator.count(fixed_prompt_text(Lane.SECURITY)),
            estimator=estimator.name,
            progress=progress,
        )
    second = escalated.result
    if second is not None and second.fatal is not None:
        finish(
            prepared, policy, source=source, head_sha=head_sha, audit=audit,
            review_skips=(*no_model, *outcome.skipped), reviewed=outcome.reviewed_hunk_ids,
            lanes=second.lanes, usage_by_lane=dict(second.usage_by_lane), model_called=True,
            notes=tuple(dict.fromkeys((*notes, *outcome.notes, *second.notes, *escalated.notes))), failed=True,
            escalations=escalated.escalations,
        )
        second.raise_if_fatal()
    if outcome.fatal is not None:
        # Bad key or quota mid-run: record what happened, then stop with exit 4.
        finish(
            prepared, policy, source=source, head_sha=head_sha, audit=audit,
            review_skips=(*no_model, *outcome.skipped), reviewed=outcome.reviewed_hunk_ids,
            lanes=outcome.lanes, usage_by_lane=dict(outcome.usage_by_lane), model_called=True,
            notes=(*notes, *outcome.notes), failed=True,
        )
        outcome.raise_if_fatal()
    last = second or outcome  # the ledger and lanes as they stand after both passes
    usage = dict(last.usage_by_lane)
    dropped = outcome.dropped_low_confidence + (second.dropped_low_confidence if second else 0)
    if dropped:
        notes.append(f"{dropped} finding(s) below the policy's min_confidence were dropped")
    lane_fell_back = {x.lane for x in outcome.lanes if x.fell_back}
    fell_back_ids = set(outcome.fell_back_hunk_ids) | {
        h for r in servable if r.lane in lane_fell_back for h in r.hunk_ids
    }
    result = finish(
        prepared,
        policy,
        source=source,
        head_sha=head_sha,
        audit=audit,
        model_findings=(*outcome.findings, *(second.findings if second else ())),
        reviewed=outcome.reviewed_hunk_ids,
        review_skips=(*no_model, *outcome.skipped),
        lanes=last.lanes,
        usage_by_lane=usage,
        cost_usd=estimate_cost(policy, last.lanes, usage),
        model_called=True,
        fell_back=len(fell_back_ids & set(outcome.reviewed_hunk_ids)),
        notes=tuple(dict.fromkeys((*notes, *outcome.notes, *(second.notes if second else ()), *escalated.notes))),
        escalations=escalated.escalations,
    )
    return result
