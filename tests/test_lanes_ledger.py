"""The budget ledger: never exceeded, thread-safe, every attempt charged (property tests)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.lanes.errors import classify_status
from reviewbot.lanes.ledger import Ledger
from reviewbot.lanes.reviewer import FakeReviewer, ModelReply
from reviewbot.models import Lane, Plan, PlannedRequest, Usage
from reviewbot.policy.model import Policy, ReviewSettings
from tests.lanes_helpers import engine_for, make_hunk


def test_reserve_refuses_what_does_not_fit_and_settle_releases() -> None:
    ledger = Ledger(1000)
    a = ledger.reserve(600, lane="security", purpose="review")
    assert a is not None and ledger.reserve(500, lane="general", purpose="review") is None
    ledger.settle(a, Usage(100, 50))
    assert ledger.snapshot().remaining == 850
    b = ledger.reserve(850, lane="general", purpose="review")
    assert b is not None
    with pytest.raises(ValueError):
        ledger.settle(a, None)  # settled twice


def test_an_overrun_is_recorded_and_stops_sending() -> None:
    ledger = Ledger(1000)
    r = ledger.reserve(100, lane="security", purpose="review")
    assert r is not None
    ledger.settle(r, Usage(150, 10))
    snap = ledger.snapshot()
    assert snap.overrun == 60 and snap.stopped and snap.charged == 160
    assert ledger.reserve(1, lane="security", purpose="review") is None


def test_parallel_reservations_never_overcommit() -> None:
    ledger = Ledger(10_000)
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            r = ledger.reserve(7, lane="general", purpose="review")
            if r is not None:
                with lock:
                    granted.append(r.tokens)
                ledger.settle(r, Usage(3, 4))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = ledger.snapshot()
    assert snap.charged == sum(granted) <= 10_000 and snap.reserved == 0


requests_st = st.lists(
    st.tuples(
        st.sampled_from([Lane.SECURITY, Lane.GENERAL]),
        st.integers(min_value=1, max_value=3000),  # planner's input estimate
        st.integers(min_value=16, max_value=2000),  # max_output_tokens
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    reqs=requests_st,
    budget=st.integers(min_value=0, max_value=40_000),
    fractions=st.lists(st.floats(min_value=0, max_value=1), min_size=24, max_size=24),
    failures=st.lists(st.sampled_from(["ok", "ok", "ok", "503", "429", "invalid"]), min_size=24, max_size=24),
    parallel=st.integers(min_value=1, max_value=4),
)
def test_sum_charged_never_exceeds_the_budget(
    reqs: list[tuple[Lane, int, int]],
    budget: int,
    fractions: list[float],
    failures: list[str],
    parallel: int,
) -> None:
    hunks = [make_hunk(f"f{n}.py", [("+", f"value = {n}")]) for n in range(len(reqs))]
    plan = Plan(
        tuple(
            PlannedRequest(f"r{n}", lane, (hunks[n].id,), est, out) for n, (lane, est, out) in enumerate(reqs)
        ),
        (),
        budget,
        "conservative",
    )
    counter = iter(range(10_000))
    lock = threading.Lock()

    def script(lane: Lane, body: Any) -> ModelReply | Any:
        with lock:
            n = next(counter)
        req = next(r for r in plan.requests if r.hunk_ids[0] in body["input"])
        frac = fractions[n % len(fractions)]
        kind = failures[n % len(failures)]
        if kind == "503":
            return classify_status(503)
        if kind == "429":
            return classify_status(429, "rate_limit_exceeded", headers={"retry-after-ms": "1"})
        # usage never above what was reserved: input <= the planner's estimate, output <= max_output
        usage = Usage(int(req.estimated_input_tokens * frac), int(req.max_output_tokens * frac))
        text = "not json" if kind == "invalid" else '{"findings": []}'
        return ModelReply(
            body["model"], "completed", text, usage, body.get("access_programs", {}).get("cyber")
        )

    policy = Policy(review=ReviewSettings(max_parallel=parallel, max_retries=2, timeout_seconds=1))
    engine, ledger, _ = engine_for(
        "http://127.0.0.1:9/v1", policy=policy, budget=budget, reviewer=FakeReviewer(script)
    )
    engine._estimate = lambda text: 1  # the planner's estimate rules: usage is drawn below it
    result = engine.run(plan, {h.id: h for h in hunks})
    snap = ledger.snapshot()
    assert snap.charged <= budget
    assert snap.reserved == 0 and snap.overrun == 0
    assert sum(u.total for _, u in result.usage_by_lane) == snap.charged
    # every hunk is accounted for: reviewed or skipped with a reason
    assert len(result.reviewed_hunk_ids) + len(result.skipped) == len(hunks)


@settings(max_examples=60, deadline=None)
@given(
    reqs=requests_st,
    budget=st.integers(min_value=0, max_value=40_000),
    fractions=st.lists(st.floats(min_value=0, max_value=1), min_size=24, max_size=24),
    failures=st.lists(st.sampled_from(["ok", "ok", "ok", "503", "invalid"]), min_size=24, max_size=24),
    escalate_bits=st.lists(st.booleans(), min_size=12, max_size=12),
    share=st.floats(min_value=0, max_value=1),
    parallel=st.integers(min_value=1, max_value=4),
)
def test_escalation_pass_keeps_the_budget_and_accounts_for_every_escalation(
    reqs: list[tuple[Lane, int, int]],
    budget: int,
    fractions: list[float],
    failures: list[str],
    escalate_bits: list[bool],
    share: float,
    parallel: int,
) -> None:
    """First pass, then the escalation pass on what the ledger has left: never past the budget."""
    from reviewbot.lanes.escalation import escalate
    from reviewbot.lanes.prompt import prepare_hunk
    from reviewbot.models import RedactedText, SkipReason
    from reviewbot.planner import PlanItem
    from reviewbot.policy.model import Budget

    hunks = [make_hunk(f"f{n}.py", [("+", f"value = {n}")]) for n in range(len(reqs))]
    plan = Plan(
        tuple(
            PlannedRequest(f"r{n}", lane, (hunks[n].id,), est, out) for n, (lane, est, out) in enumerate(reqs)
        ),
        (),
        budget,
        "conservative",
    )
    wants = {h.id for h, bit in zip(hunks, escalate_bits, strict=False) if bit}
    counter = iter(range(10_000))
    lock = threading.Lock()

    def script(lane: Lane, body: Any) -> ModelReply | Any:
        with lock:
            n = next(counter)
        data = json.loads(body["input"])["hunks"]
        sent = [h["hunk_id"] for h in data]
        req = next(r for r in plan.requests if r.hunk_ids[0] in sent)
        # usage never above what was reserved; an escalation's reservation is at least 1 + its max output
        second_pass = any("escalation_reason" in h for h in data)
        est = 1 if second_pass else req.estimated_input_tokens
        out = body["max_output_tokens"] if second_pass else req.max_output_tokens
        frac = fractions[n % len(fractions)]
        kind = failures[n % len(failures)]
        if kind == "503":
            return classify_status(503)
        usage = Usage(int(est * frac), int(out * frac))
        if kind == "invalid":
            text = "not json"
        elif "escalations" in str(body["text"]):
            esc = [{"hunk_id": h, "needed": h in wants, "reason": "r"} for h in sent]
            text = json.dumps({"findings": [], "escalations": esc})
        else:
            text = '{"findings": []}'
        return ModelReply(body["model"], "completed", text, usage, (body.get("access_programs") or {}).get("cyber"))

    policy = Policy(
        review=ReviewSettings(max_parallel=parallel, max_retries=1, timeout_seconds=1),
        budget=Budget(max_output_tokens_per_call=64, reserve_for_escalation=share),
    )
    engine, ledger, _ = engine_for(
        "http://127.0.0.1:9/v1", policy=policy, budget=budget, reviewer=FakeReviewer(script)
    )
    engine._estimate = lambda text: 1  # the planner's estimate rules: usage is drawn below it
    first = engine.run(plan, {h.id: h for h in hunks})
    items = [
        PlanItem(h, lane, prepare_hunk(h, lane, path=RedactedText(h.path), body=RedactedText(h.body())).text())
        for h, (lane, _, _) in zip(hunks, reqs, strict=True)
    ]
    second = escalate(
        engine, first, policy=policy, items=items, hunks={h.id: h for h in hunks},
        remaining=ledger.snapshot().remaining, count=lambda t: len(t) // 4 + 1, overhead=10,
        estimator="conservative",
    )
    snap = ledger.snapshot()
    assert snap.charged <= budget and snap.reserved == 0 and snap.overrun == 0
    # every escalation: a general-lane hunk the first pass reviewed, with exactly one outcome
    general = {h.id for h, (lane, _, _) in zip(hunks, reqs, strict=True) if lane is Lane.GENERAL}
    escalated = [e.hunk_id for e in second.escalations]
    assert len(escalated) == len(set(escalated))
    assert set(escalated) == wants & general & set(first.reviewed_hunk_ids)
    for e in second.escalations:
        assert e.reviewed != (e.skipped is not None)
        assert e.skipped in (None, SkipReason.OVER_BUDGET, SkipReason.FAILED)
    # the first pass's accounting is untouched by the second
    assert len(first.reviewed_hunk_ids) + len(first.skipped) == len(hunks)
