from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.models import DiffLine, FileStatus, Hunk, Lane, RedactedText, SkipReason, hunk_id
from reviewbot.planner import HUNK_FRAMING_TOKENS, PlanItem, plan
from reviewbot.policy.model import Budget


def count(text: str) -> int:  # a deterministic stand-in estimator: one token per 4 chars
    return len(text) // 4 + 1


def make_hunk(path: str, n_lines: int, start: int = 1, language: str | None = "python") -> Hunk:
    lines = tuple(DiffLine("+", f"line {i} of {path} = compute(x, y)", None, start + i) for i in range(n_lines))
    body = "".join(f"+{ln.text}\n" for ln in lines)
    header = f"@@ -0,0 +{start},{n_lines} @@"
    return Hunk(
        id=hunk_id(path, header, body), path=path, old_path=None, status=FileStatus.MODIFIED,
        old_start=0, old_len=0, new_start=start, new_len=n_lines, section="", lines=lines,
        commentable=frozenset(range(start, start + n_lines)), language=language,
    )


def item(hunk: Hunk, lane: Lane) -> PlanItem:
    return PlanItem(hunk, lane, RedactedText(hunk.body().rstrip("\n")))


OVERHEAD = {Lane.SECURITY: 300, Lane.GENERAL: 250}


def test_security_is_planned_before_general_when_budget_is_short():
    sec = [item(make_hunk(f"auth/a{i}.py", 30), Lane.SECURITY) for i in range(3)]
    gen = [item(make_hunk(f"app/b{i}.py", 30), Lane.GENERAL) for i in range(3)]
    budget = Budget(max_output_tokens_per_call=500)
    p = plan(gen + sec, budget=budget, budget_tokens=2_000, count=count, prompt_overhead=OVERHEAD,
             estimator="test")
    planned = {h for r in p.requests for h in r.hunk_ids}
    assert {i.hunk.id for i in sec} <= planned
    assert all(s.reason is SkipReason.OVER_BUDGET and s.lane is Lane.GENERAL for s in p.skipped)
    assert p.skipped, "the general hunks cannot all fit in 2,000 tokens"
    assert p.reserved_tokens <= 2_000


def test_small_hunks_are_packed_into_one_request_per_lane():
    items = [item(make_hunk(f"app/f{i}.py", 3), Lane.GENERAL) for i in range(40)]
    p = plan(items, budget=Budget(), budget_tokens=100_000, count=count, prompt_overhead=OVERHEAD,
             estimator="test")
    assert len(p.requests) == 1
    assert len(p.requests[0].hunk_ids) == 40
    assert not p.skipped


def test_oversized_hunk_is_clipped_at_a_line_boundary_not_dropped():
    big = item(make_hunk("app/big.py", 2_000), Lane.SECURITY)
    budget = Budget(max_hunk_tokens=1_000)
    p = plan([big], budget=budget, budget_tokens=100_000, count=count, prompt_overhead=OVERHEAD,
             estimator="test")
    (req,) = p.requests
    assert req.clipped == (big.hunk.id,)
    kept = req.lines_kept(big.hunk.id)
    assert kept is not None and 0 < kept < 2_000
    sent = "\n".join(big.text.split("\n")[:kept])
    assert count(sent) + HUNK_FRAMING_TOKENS <= 1_000
    assert kept >= 80  # ~10 tokens a line: close to the limit, not clipped absurdly short


def test_nothing_fits_means_everything_is_skipped_with_reason():
    items = [item(make_hunk("auth/x.py", 10), Lane.SECURITY)]
    p = plan(items, budget=Budget(max_output_tokens_per_call=4_000), budget_tokens=1_000, count=count,
             prompt_overhead=OVERHEAD, estimator="test")
    assert p.requests == ()
    assert [s.reason for s in p.skipped] == [SkipReason.OVER_BUDGET]
    assert "1000" in p.skipped[0].detail


def test_plan_is_deterministic_regardless_of_input_order():
    items = [item(make_hunk(f"app/f{i}.py", 5 + i % 7), Lane.GENERAL if i % 2 else Lane.SECURITY) for i in range(30)]
    a = plan(items, budget=Budget(), budget_tokens=5_000, count=count, prompt_overhead=OVERHEAD, estimator="t")
    b = plan(list(reversed(items)), budget=Budget(), budget_tokens=5_000, count=count, prompt_overhead=OVERHEAD,
             estimator="t")
    assert a == b


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(1, 400), st.booleans()), min_size=0, max_size=40),
    budget_tokens=st.integers(1, 60_000),
    max_output=st.integers(16, 5_000),
    max_hunk=st.integers(50, 8_000),
)
def test_reservations_never_exceed_the_budget_and_every_hunk_is_accounted_for(
    sizes, budget_tokens, max_output, max_hunk
):
    items = [item(make_hunk(f"p/f{i}.py", n), Lane.SECURITY if sec else Lane.GENERAL)
             for i, (n, sec) in enumerate(sizes)]
    p = plan(items, budget=Budget(max_output_tokens_per_call=max_output, max_hunk_tokens=max_hunk),
             budget_tokens=budget_tokens, count=count, prompt_overhead=OVERHEAD, estimator="t")
    assert p.reserved_tokens <= budget_tokens
    planned = [h for r in p.requests for h in r.hunk_ids]
    skipped = [s.hunk_id for s in p.skipped]
    assert sorted(planned + skipped) == sorted(i.hunk.id for i in items)
    assert len(set(planned)) == len(planned)


def test_the_general_lane_leaves_the_escalation_reserve_and_the_security_lane_does_not():
    from reviewbot.planner import escalation_reserve

    budget = Budget(max_output_tokens_per_call=500, reserve_for_escalation=0.5)
    reserve = escalation_reserve(budget, 4_000)
    assert reserve == 2_000
    sec = [item(make_hunk(f"auth/a{i}.py", 30), Lane.SECURITY) for i in range(4)]
    gen = [item(make_hunk(f"app/b{i}.py", 30), Lane.GENERAL) for i in range(4)]
    kept = plan(sec, budget=budget, budget_tokens=4_000, count=count, prompt_overhead=OVERHEAD,
                estimator="test", reserve_for_escalation=reserve)
    free = plan(sec, budget=budget, budget_tokens=4_000, count=count, prompt_overhead=OVERHEAD,
                estimator="test")
    assert kept.requests == free.requests  # the security lane plans against the whole budget
    general = plan(gen, budget=budget, budget_tokens=4_000, count=count, prompt_overhead=OVERHEAD,
                   estimator="test", reserve_for_escalation=reserve)
    assert general.reserved_tokens <= 4_000 - reserve and general.escalation_reserve == reserve
    assert general.skipped and all("kept for escalations" in s.detail for s in general.skipped)
    assert plan(gen, budget=budget, budget_tokens=4_000, count=count, prompt_overhead=OVERHEAD,
                estimator="test").reserved_tokens > 4_000 - reserve


@settings(max_examples=80, deadline=None)
@given(
    n_sec=st.integers(0, 6), n_gen=st.integers(0, 6), budget_tokens=st.integers(0, 8_000),
    share=st.floats(0, 1), size=st.integers(1, 60),
)
def test_with_a_reserve_the_general_lane_never_plans_into_it(n_sec, n_gen, budget_tokens, share, size):
    from reviewbot.planner import escalation_reserve

    budget = Budget(max_output_tokens_per_call=200, reserve_for_escalation=share)
    reserve = escalation_reserve(budget, budget_tokens)
    items = [item(make_hunk(f"auth/a{i}.py", size), Lane.SECURITY) for i in range(n_sec)]
    items += [item(make_hunk(f"app/b{i}.py", size), Lane.GENERAL) for i in range(n_gen)]
    p = plan(items, budget=budget, budget_tokens=budget_tokens, count=count, prompt_overhead=OVERHEAD,
             estimator="test", reserve_for_escalation=reserve)
    assert 0 <= reserve <= budget_tokens
    assert p.reserved_tokens <= budget_tokens
    general = sum(r.reserved_tokens for r in p.requests_for(Lane.GENERAL))
    security = sum(r.reserved_tokens for r in p.requests_for(Lane.SECURITY))
    assert security + general <= max(security, budget_tokens - reserve)
    planned = {h for r in p.requests for h in r.hunk_ids}
    assert len(planned) + len(p.skipped) == len(items)


def test_request_tokens_count_once_per_request_and_never_against_the_hunk_limit():
    # The condensed note travels in the instructions of any request holding such a hunk: the
    # request pays it once, opened or joined, and it does not shrink what the hunk may show.
    plain = item(make_hunk("app/p.py", 10), Lane.GENERAL)
    deps = [PlanItem(h.hunk, h.lane, h.text, request_tokens=170)
            for h in (item(make_hunk(f"lock/{n}.json", 10, language=None), Lane.GENERAL) for n in range(2))]
    base = plan([plain], budget=Budget(), budget_tokens=100_000, count=count, prompt_overhead=OVERHEAD,
                estimator="t")
    with_deps = plan([plain, *deps], budget=Budget(), budget_tokens=100_000, count=count,
                     prompt_overhead=OVERHEAD, estimator="t")
    alone = plan(deps, budget=Budget(), budget_tokens=100_000, count=count, prompt_overhead=OVERHEAD,
                 estimator="t")
    plain_deps = plan([PlanItem(d.hunk, d.lane, d.text) for d in deps], budget=Budget(), budget_tokens=100_000,
                      count=count, prompt_overhead=OVERHEAD, estimator="t")
    (b,), (w,), (a,), (p,) = base.requests, with_deps.requests, alone.requests, plain_deps.requests
    assert a.estimated_input_tokens == p.estimated_input_tokens + 170  # once, not once per hunk
    both = b.estimated_input_tokens + p.estimated_input_tokens - OVERHEAD[Lane.GENERAL]
    assert w.estimated_input_tokens == both + 170
    assert with_deps.reserved_tokens == w.estimated_input_tokens + w.max_output_tokens
    # Not charged against max_hunk_tokens: a hunk just within its limit is not clipped for it.
    tight = Budget(max_hunk_tokens=count(deps[0].text) + count(deps[0].text) // 20 + 1 + HUNK_FRAMING_TOKENS)
    clipped = plan(deps[:1], budget=tight, budget_tokens=100_000, count=count, prompt_overhead=OVERHEAD,
                   estimator="t")
    assert clipped.requests[0].clipped == ()
    # Within a budget that affords the hunk but not the note, the request is not planned.
    need = p.estimated_input_tokens - (count(deps[1].text) + count(deps[1].text) // 20 + 1 + HUNK_FRAMING_TOKENS)
    short = plan(deps[:1], budget=Budget(), budget_tokens=need + Budget().max_output_tokens_per_call + 169,
                 count=count, prompt_overhead=OVERHEAD, estimator="t")
    assert short.requests == () and len(short.skipped) == 1
