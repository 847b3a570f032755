"""Benchmark of the model lanes against the loopback fake (no network).

1. Concurrency: 24 planned requests, 1.0 s latency per call, max_parallel 8:
   wall time against the ideal ceil(24/8) x 1.0 s (target <= 1.25x).
2. Tokens: for a small (20 changed lines), medium (500) and large (5,000) PR,
   planned by reviewbot.planner and sent through the engine, the input tokens
   sent per reviewed changed line and the share of input that is fixed prompt
   (target <= 35 % on the medium PR). Tokens are counted with reviewbot.tokens
   (o200k_base when available offline, else the conservative estimate).

Run: .venv/bin/python scripts/bench_review.py
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewbot.lanes.prompt import fixed_prompt_text, prepare_hunk
from reviewbot.models import Lane, Plan, PlannedRequest, RedactedText
from reviewbot.planner import PlanItem, plan
from reviewbot.policy.model import Budget, Policy, ReviewSettings
from reviewbot.tokens import get_estimator
from tests.fakes.openai_server import running_fake
from tests.lanes_helpers import engine_for, make_hunk

CODE = [
    "def handle(request, db, user):",
    "    payload = request.get_json(silent=True) or {}",
    "    name = payload.get('name', '').strip()",
    "    if not name:",
    "        return {'error': 'name required'}, 400",
    "    row = db.execute('SELECT id, owner FROM items WHERE name = ?', (name,)).fetchone()",
    "    if row is None or row['owner'] != user.id:",
    "        return {'error': 'not found'}, 404",
    "    log.info('item %s opened by %s', row['id'], user.id)",
    "    return {'id': row['id'], 'name': name}, 200",
]


def hunks_for(changed_lines: int, per_hunk: int = 20) -> list:  # type: ignore[type-arg]
    out = []
    n = 0
    file_no = 0
    while n < changed_lines:
        take = min(per_hunk, changed_lines - n)
        lines = [(" ", "# context")] + [("+", CODE[(n + k) % len(CODE)]) for k in range(take)] + [(" ", "")]
        out.append(make_hunk(f"src/app/module_{file_no:03d}.py", lines, new_start=10 + 40 * (n // 200)))
        n += take
        file_no += 1
    return out


def bench_concurrency() -> dict[str, float]:
    hunks = [make_hunk(f"f{n}.py", [("+", f"x = {n}")]) for n in range(24)]
    reqs = tuple(PlannedRequest(f"r{n}", Lane.GENERAL, (h.id,), 200, 400) for n, h in enumerate(hunks))
    with running_fake(latency=1.0) as fake:
        policy = Policy(review=ReviewSettings(max_parallel=8, timeout_seconds=10))
        engine, _, _ = engine_for(fake.base_url, policy=policy)
        start = time.perf_counter()
        result = engine.run(Plan(reqs, (), 1_000_000, "conservative"), {h.id: h for h in hunks})
        wall = time.perf_counter() - start
    assert len(result.reviewed_hunk_ids) == 24, result.skipped
    ideal = math.ceil(24 / 8) * 1.0
    return {"wall_s": round(wall, 3), "ideal_s": ideal, "ratio": round(wall / ideal, 3)}


def bench_tokens(changed_lines: int) -> dict[str, float]:
    est = get_estimator()
    hunks = hunks_for(changed_lines)
    items = [
        PlanItem(
            h,
            Lane.GENERAL,
            prepare_hunk(h, Lane.GENERAL, path=RedactedText(h.path), body=RedactedText(h.body())).text(),
        )
        for h in hunks
    ]
    overhead = {lane: est.count(fixed_prompt_text(lane)) for lane in (Lane.SECURITY, Lane.GENERAL)}
    the_plan = plan(
        items,
        budget=Budget(),
        budget_tokens=10_000_000,
        count=est.count,
        prompt_overhead=overhead,
        estimator=est.name,
    )
    with running_fake() as fake:
        engine, _, _ = engine_for(fake.base_url, budget=10_000_000)
        result = engine.run(the_plan, {h.id: h for h in hunks})
        bodies = fake.bodies()
    sent = sum(est.count(b["instructions"] + json.dumps(b["text"], sort_keys=True) + b["input"]) for b in bodies)
    fixed = len(bodies) * overhead[Lane.GENERAL]
    reviewed = sum(h.added for h in hunks if h.id in set(result.reviewed_hunk_ids))
    return {
        "changed_lines": changed_lines,
        "requests": len(bodies),
        "input_tokens": sent,
        "tokens_per_changed_line": round(sent / max(1, reviewed), 1),
        "fixed_share": round(fixed / max(1, sent), 3),
    }


def main() -> None:
    print(f"estimator: {get_estimator().name}")
    print("concurrency:", json.dumps(bench_concurrency()))
    for size in (20, 500, 5000):
        print("tokens:", json.dumps(bench_tokens(size)))


if __name__ == "__main__":
    main()
