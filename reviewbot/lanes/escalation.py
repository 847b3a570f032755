"""Escalation: general-lane hunks the general model judged security-relevant, reviewed again by the security lane.

The routing rules are the floor: a hunk they sent to the security lane is reviewed
there whatever any model says, and a general-lane hunk the model does not escalate
(or marks ``needed: false``) keeps its general review. Escalation only adds a second
review on top, after the first pass, within what the budget has left: the
``budget.reserve_for_escalation`` share the general lane was planned without, plus
whatever the first pass did not spend. An escalation that does not fit is recorded
as ``over-budget``, not made.

The escalation pass never loops: the security lane's output has no escalation field,
and when the security lane is not served by its own model (it fell back to the
general lane, at the probe or mid-run) escalations are recorded as not sent
(``no-model``) instead of asking the general model the same question twice.

The model's reason is untrusted: it is folded to one line, stripped of hidden
carriers and HTML comments, capped, and redacted before it is kept; it reaches
the security prompt only as a JSON string field of the hunk data, and reports
only as escaped text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..models import Escalation, Hunk, Lane, LaneResolution, SkipReason
from ..planner import PlanItem, plan
from ..policy.model import Policy
from .engine import Engine, EngineResult, clean_reason

__all__ = ["EscalationPass", "clean_reason", "escalate", "security_served_by_itself"]


def security_served_by_itself(resolution: LaneResolution | None) -> bool:
    """True when the security lane has its own model (no fallback), so an escalation means something."""
    return (
        resolution is not None
        and resolution.served_by is not None
        and resolution.served_lane is Lane.SECURITY
        and not resolution.fell_back
    )


@dataclass(frozen=True)
class EscalationPass:
    escalations: tuple[Escalation, ...]  # one per escalated hunk, sorted
    result: EngineResult | None  # the second pass (None: nothing was sent)
    notes: tuple[str, ...] = ()


def escalate(
    engine: Engine,
    first: EngineResult,
    *,
    policy: Policy,
    items: Sequence[PlanItem],
    hunks: Mapping[str, Hunk],
    remaining: int,
    count: Callable[[str], int],
    overhead: int,
    estimator: str,
    progress: Callable[[str], None] = lambda _m: None,
) -> EscalationPass:
    """Plan the escalated hunks on the security lane within ``remaining`` tokens and send them."""
    general = {i.hunk.id: i for i in items if i.lane is Lane.GENERAL}
    reviewed = set(first.reviewed_hunk_ids)
    wanted = [e for e in first.escalations if e.hunk_id in general and e.hunk_id in reviewed]
    if not wanted:
        return EscalationPass((), None)
    reasons = {e.hunk_id: e.reason for e in wanted}

    def record(
        hunk_id: str, *, reviewed: bool = False, skipped: SkipReason | None = None, detail: str = ""
    ) -> Escalation:
        return Escalation(hunk_id, general[hunk_id].hunk.path, reasons[hunk_id], reviewed, skipped, detail)

    security = engine.security_route()
    if not security_served_by_itself(security):
        why = security.reason if security is not None else "not probed"
        served = security.served_by if security is not None and security.served_by else "no model"
        detail = f"the security lane is served by {served} ({why}): not sent again, so escalation cannot loop"
        note = (
            f"{len(wanted)} hunk(s) escalated by the general model were not reviewed again: "
            f"the security lane is not served by its own model ({why})"
        )
        out = tuple(record(e.hunk_id, skipped=SkipReason.NO_MODEL, detail=detail) for e in wanted)
        return EscalationPass(tuple(sorted(out, key=Escalation.sort_key)), None, (note,))

    esc_items = [
        PlanItem(
            general[e.hunk_id].hunk,
            Lane.SECURITY,
            general[e.hunk_id].text,
            # the reason travels with the hunk as a JSON field: count it with the hunk's framing
            fixed_tokens=general[e.hunk_id].fixed_tokens + count(e.reason) + 8,
            request_tokens=general[e.hunk_id].request_tokens,  # the condensed note, if it needs it
        )
        for e in wanted
    ]
    the_plan = plan(
        esc_items,
        budget=policy.budget,
        budget_tokens=max(0, remaining),
        count=count,
        prompt_overhead={Lane.SECURITY: overhead},
        estimator=estimator,
    )
    out_list = [
        record(s.hunk_id, skipped=SkipReason.OVER_BUDGET, detail=f"escalation not made: {s.detail}")
        for s in the_plan.skipped
        if s.hunk_id is not None
    ]
    result: EngineResult | None = None
    if the_plan.requests:
        progress(f"reviewbot: {len(the_plan.requests)} escalation request(s) to the security lane")
        result = engine.run(the_plan, hunks, escalated=reasons)
        out_list.extend(record(h, reviewed=True) for h in result.reviewed_hunk_ids if h in reasons)
        out_list.extend(
            record(s.hunk_id, skipped=s.reason, detail=f"escalation not made: {s.detail}")
            for s in result.skipped
            if s.hunk_id in reasons
        )
    return EscalationPass(tuple(sorted(out_list, key=Escalation.sort_key)), result)
