#!/usr/bin/env python3
"""Benchmark: the whole offline pipeline against bare unidiff parsing, in one run.

Generates a synthetic diff of 2,000 files / 100,000 changed lines, then times
(1) `unidiff.PatchSet` parsing alone — the baseline — and (2) parse + route + redact +
estimate + plan + JSON report, as `reviewbot diff --offline --format json` does, and
(3) the same with `--audit` (the hash-chained log written to memory).
Prints them, their ratios (target ≤ 3x), and the peak memory (target < 500 MB).

    python scripts/bench_pipeline.py [--files 2000] [--lines 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import time
from pathlib import Path

import unidiff

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewbot.audit import AuditLog
from reviewbot.diff import parse_diff
from reviewbot.models import SkipReason
from reviewbot.pipeline import finish, not_reviewed, prepare
from reviewbot.policy import load_policy
from reviewbot.redact import Redactor
from reviewbot.report.jsonout import render_json
from reviewbot.tokens import get_estimator

DIRS = ["src/app", "src/auth", "lib/crypto", "api/handlers", "docs", "web/static", "db/migrations", "tests"]
EXTS = [".py", ".js", ".go", ".ts", ".md", ".sql", ".java"]
WORDS = ["user", "token", "request", "value", "result", "config", "handler", "query", "items", "data"]


def synthetic_diff(files: int, lines: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    per_file = lines // files
    out = []
    for i in range(files):
        path = f"{rng.choice(DIRS)}/module_{i}{rng.choice(EXTS)}"
        out.append(f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n")
        remaining = per_file
        start = 10
        while remaining > 0:
            n = min(remaining, rng.randint(5, 25))
            remaining -= n
            added = n // 2 + n % 2
            removed = n // 2
            out.append(f"@@ -{start},{removed + 3} +{start},{added + 3} @@ def f{start}():\n")
            out.append("     context_before = 1\n")
            for _ in range(removed):
                out.append(f"-    {rng.choice(WORDS)} = compute({rng.choice(WORDS)}, {rng.randint(0, 999)})\n")
            for _ in range(added):
                out.append(f"+    {rng.choice(WORDS)} = process({rng.choice(WORDS)}, {rng.randint(0, 999)})\n")
            out.append("     context_mid = 2\n     context_after = 3\n")
            start += 40
    return "".join(out)


def pipeline(text: str, *, audit_log: bool = False) -> str:
    policy = load_policy(None, cwd=Path("/nonexistent"), env={})
    redactor = Redactor.from_config(policy.redaction)
    # Without --audit the CLI's log only checks its events; with it, every line is built and hashed.
    audit = AuditLog(io.StringIO() if audit_log else None, scrub=redactor.scrub, keep=False)
    diff = parse_diff(text, origin="bench")
    prepared = prepare(diff, policy, redactor=redactor, estimator=get_estimator(), budget_tokens=10**9, audit=audit)
    skips = not_reviewed(prepared, SkipReason.OFFLINE, "benchmark")
    result = finish(prepared, policy, source="bench", head_sha=None, audit=audit, review_skips=skips)
    return render_json(result, scrub=redactor.scrub)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    text = synthetic_diff(args.files, args.lines)
    print(f"synthetic diff: {args.files} files, {args.lines} changed lines, {len(text) / 1e6:.1f} MB")
    print(f"token estimator: {get_estimator().name}")
    base = best_of(args.repeat, lambda: unidiff.PatchSet(text))
    whole = best_of(args.repeat, lambda: pipeline(text))
    audited = best_of(args.repeat, lambda: pipeline(text, audit_log=True))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"unidiff.PatchSet alone (baseline): {base:.2f} s")
    print(f"whole offline pipeline:            {whole:.2f} s")
    print(f"  with --audit:                    {audited:.2f} s")
    print(f"ratio: {whole / base:.2f}x (target <= 3x); with --audit {audited / base:.2f}x")
    print(f"peak RSS {peak_mb:.0f} MB (target < 500 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
