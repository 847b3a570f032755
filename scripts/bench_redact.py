#!/usr/bin/env python3
"""Benchmark the redactor against detect-secrets on one generated diff with planted secrets.

    .venv/bin/python scripts/bench_redact.py [--mb 20] [--seed 1] [--every 200]

Generates a unified diff of about ``--mb`` MB (code, config and lockfile lines, benign
look-alikes among them) with one planted item from ``tests/secret_corpus.py`` per about
``--every`` lines, then reports, on the same text:

- reviewbot: throughput (MB/s) of ``Redactor.scrub`` on the whole text and per hunk, recall
  on the planted secrets (every fragment masked) and on planted personal data;
- detect-secrets (Yelp), if installed: throughput and recall on the planted secrets (found
  when it reports a secret on the item's lines that overlaps the value, or the BEGIN line
  of a private key), and the ratios.

detect-secrets is NOT a reviewbot dependency. Install it into the venv for this benchmark
only (``.venv/bin/pip install detect-secrets``); without it the comparison is skipped with
a message. Figures depend on the machine: compare ratios, not times.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.redact import Redactor  # noqa: E402
from tests.secret_corpus import (  # noqa: E402
    PII_KINDS,
    Planted,
    benign_lookalikes,
    leaked_fragments,
    planted_secrets,
)

_FILLER = (
    "    result = compute_total(items, discount={n}.15)",
    "import os",
    "from .models import Order, Customer",
    "def handle_{w}(event, context):",
    "    if not event.get('{w}'):",
    "        raise ValueError(f'missing {w}: {{event!r}}')",
    "    return {{'status': {n}, 'body': json.dumps(payload)}}",
    "  - name: build-{w}",
    "    runs-on: ubuntu-24.04",
    "    uses: actions/checkout@{h40}",
    "const {w} = require('./{w}');",
    "export function {w}Handler(req, res) {{",
    "  res.status({n}).json({{ ok: true, id: '{uuid}' }});",
    "}}",
    '    "{w}": "^{n}.{n}.{n}",',
    '      "integrity": "sha512-{b64}==",',
    "    for i in range({n}):",
    "        logger.debug('processed %d of %d', i, total)",
    "SELECT id, name FROM users WHERE id = %s  -- {w}",
    '<div class="{w}" style="color: #a1b2c3">{w}</div>',
    "# TODO({w}): clean this up after v{n}.{n}",
    "    assert response.status_code == {n}",
    "    timeout: {n}s",
    "checksum: sha256:{h64}",
    "    max_tokens = {n}",
    "    password_field = form.fields['password']",
)
_WORDS = ("alpha", "order", "user", "report", "cache", "worker", "invoice", "session", "queue", "metric")


def _filler_line(rng: random.Random) -> str:
    template = rng.choice(_FILLER)
    return template.format(
        n=rng.randint(1, 999),
        w=rng.choice(_WORDS),
        h40="".join(rng.choice("0123456789abcdef") for _ in range(40)),
        h64="".join(rng.choice("0123456789abcdef") for _ in range(64)),
        uuid=f"{rng.getrandbits(128):032x}",
        b64="".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(60)),
    )


def generate(target_bytes: int, seed: int, every: int) -> tuple[str, list[tuple[Planted, int, int]], list[str]]:
    """(diff text, [(item, first line index, line count)], hunk texts)."""
    rng = random.Random(seed)
    pool: list[Planted] = []
    benign = benign_lookalikes()
    lines: list[str] = []
    placed: list[tuple[Planted, int, int]] = []
    hunks: list[str] = []
    size = 0
    file_no = 0
    while size < target_bytes:
        file_no += 1
        path = f"src/pkg{file_no % 50}/module_{file_no}.py"
        header = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
        lines.extend(header)
        size += sum(len(h) + 1 for h in header)
        for _hunk in range(rng.randint(1, 4)):
            hunk_lines: list[str] = []
            start = rng.randint(1, 2000)
            body: list[str] = []
            for _ in range(rng.randint(20, 80)):
                roll = rng.random()
                if roll < 1 / every:
                    if not pool:
                        pool = planted_secrets(rng.randint(0, 10**9))
                        rng.shuffle(pool)
                    item = pool.pop()
                    text = item.context_text
                    if item.context != "diff":
                        text = "".join(f"+{ln}\n" for ln in text.splitlines())
                    item_lines = text.splitlines()
                    placed.append((item, len(lines) + 1 + len(body), len(item_lines)))
                    body.extend(item_lines)
                elif roll < 0.02:
                    body.append("+" + rng.choice(benign))
                else:
                    body.append(rng.choice("+- ") + _filler_line(rng))
            hunk_lines.append(f"@@ -{start},{len(body)} +{start},{len(body)} @@ def f():")
            hunk_lines.extend(body)
            lines.extend(hunk_lines)
            hunks.append("\n".join(body) + "\n")
            size += sum(len(ln) + 1 for ln in hunk_lines)
    return "\n".join(lines) + "\n", placed, hunks


def _mb(n: int) -> float:
    return n / 1_000_000


def bench_ours(text: str, hunks: list[str], placed: list[tuple[Planted, int, int]], *, pii: bool) -> dict[str, float]:
    size = len(text.encode())
    redactor = Redactor(pii=pii)
    t0 = time.perf_counter()
    out = redactor.scrub(text)
    whole = time.perf_counter() - t0
    per_hunk_redactor = Redactor(pii=pii)
    t0 = time.perf_counter()
    for hunk in hunks:
        per_hunk_redactor.scrub(hunk)
    per_hunk = time.perf_counter() - t0
    out_lines = out.split("\n")
    assert len(out_lines) == len(text.split("\n")), "line count changed"
    secrets = [(p, a, n) for p, a, n in placed if p.kind not in PII_KINDS]
    personal = [(p, a, n) for p, a, n in placed if p.kind in PII_KINDS]

    def recall(items: list[tuple[Planted, int, int]]) -> float:
        hit = sum(1 for p, a, n in items if not leaked_fragments("\n".join(out_lines[a - 1 : a - 1 + n]), p))
        return hit / len(items) if items else 1.0

    return {
        "mbps_whole": _mb(size) / whole,
        "mbps_hunks": _mb(sum(len(h.encode()) for h in hunks)) / per_hunk,
        "recall": recall(secrets),
        "pii_recall": recall(personal),
        "seconds": whole,
    }


def bench_detect_secrets(text: str, placed: list[tuple[Planted, int, int]]) -> dict[str, float] | None:
    try:  # imported by name: an optional, benchmark-only tool
        collection_mod = importlib.import_module("detect_secrets")
        settings_mod = importlib.import_module("detect_secrets.settings")
    except ImportError:
        return None
    SecretsCollection = collection_mod.SecretsCollection
    default_settings = settings_mod.default_settings
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.diff")
        Path(path).write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        with default_settings():
            collection = SecretsCollection()
            collection.scan_file(path)
        elapsed = time.perf_counter() - t0
    by_line: dict[int, list[str]] = {}
    for _filename, secret in collection:
        by_line.setdefault(secret.line_number, []).append(secret.secret_value or "")
    lines = text.split("\n")
    secrets = [(p, a, n) for p, a, n in placed if p.kind not in PII_KINDS]
    hit = 0
    for item, first, count in secrets:
        found = False
        for line_no in range(first, first + count):
            for value in by_line.get(line_no, ()):
                begin_line = "-----BEGIN" in item.value and "-----BEGIN" in lines[line_no - 1]
                overlaps = len(value) >= 8 and (value in item.value or item.value in value)
                found = found or begin_line or overlaps
        hit += found
    return {
        "mbps": _mb(len(text.encode())) / elapsed,
        "recall": hit / len(secrets) if secrets else 1.0,
        "seconds": elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the generated diff (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=200, help="one planted item per about N lines")
    parser.add_argument("--no-detect-secrets", action="store_true", help="skip the comparison")
    args = parser.parse_args()

    text, placed, hunks = generate(int(args.mb * 1_000_000), args.seed, args.every)
    n_secret = sum(1 for p, _, _ in placed if p.kind not in PII_KINDS)
    print(
        f"text: {_mb(len(text.encode())):.1f} MB, {text.count(chr(10))} lines, {len(hunks)} hunks, "
        f"{n_secret} planted secrets + {len(placed) - n_secret} planted personal data, "
        f"{len({p.kind for p, _, _ in placed})} kinds"
    )
    ours = bench_ours(text, hunks, placed, pii=True)
    ours_nopii = bench_ours(text, hunks, placed, pii=False)
    print(
        f"reviewbot (pii on):  {ours['mbps_whole']:6.1f} MB/s whole text, {ours['mbps_hunks']:6.1f} MB/s "
        f"per hunk; recall secrets {ours['recall']:.3f}, personal data {ours['pii_recall']:.3f}"
    )
    print(
        f"reviewbot (pii off): {ours_nopii['mbps_whole']:6.1f} MB/s whole text, "
        f"{ours_nopii['mbps_hunks']:6.1f} MB/s per hunk; recall secrets {ours_nopii['recall']:.3f}"
    )
    if args.no_detect_secrets:
        return 0
    theirs = bench_detect_secrets(text, placed)
    if theirs is None:
        print(
            "detect-secrets: not installed, comparison skipped "
            "(benchmark only, not a dependency: .venv/bin/pip install detect-secrets)"
        )
        return 0
    print(
        f"detect-secrets:      {theirs['mbps']:6.2f} MB/s; recall secrets {theirs['recall']:.3f} "
        f"({theirs['seconds']:.1f} s)"
    )
    whole_ratio = ours["mbps_whole"] / theirs["mbps"]
    hunk_ratio = ours["mbps_hunks"] / theirs["mbps"]
    print(f"ratio throughput (ours pii on, whole text / detect-secrets): {whole_ratio:.1f}x")
    print(f"ratio throughput (ours pii on, per hunk / detect-secrets):   {hunk_ratio:.1f}x")
    print(f"recall: ours {ours['recall']:.3f} vs detect-secrets {theirs['recall']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
