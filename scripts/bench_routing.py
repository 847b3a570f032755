#!/usr/bin/env python3
"""Benchmark: how well the shipped policy routes real security fixes, and what it costs.

Reads ``../shared/fixtures/real_fixes`` in place (never copied; see its README). With the shipped
default policy, it routes:

- each fix as **the change that introduced the vulnerable code**: every fix hunk's old side
  (context and removed lines) with the removed lines turned into added lines; a hunk that only adds
  lines (a missing check) becomes its context lines as added lines;
- the ordinary commits as they are (the cost);
- the forward fix diffs as they are (for comparison only: a fix's own wording is not in the bug).

and prints, for the path rules alone vs the full router (paths + content rules): fix commits caught
(at least one hunk of the fix's ``fix_files`` on the security lane), fixed hunks caught, and the
share of ordinary changed lines (lockfiles apart) and of estimated tokens on the security lane,
with lockfiles raw vs condensed (:mod:`reviewbot.deps`); and the security-lane lockfile hunks' text as
the review path sends it (:mod:`reviewbot.lanes.condensed`: condensed, or raw where it cannot be) vs raw.

Targets on the introducing changes: >= 75 % of fix commits caught with <= 25 % of ordinary
non-lockfile changed lines on the security lane; lockfile tokens cut >= 10x by condensing.

    python scripts/bench_routing.py [--fixtures DIR] [--policy FILE] [--misses]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.deps import condense, is_dependency_file, render_condensed  # noqa: E402
from reviewbot.diff import parse_diff  # noqa: E402
from reviewbot.lanes.condensed import condense_hunks  # noqa: E402
from reviewbot.lanes.prompt import prepare_hunk  # noqa: E402
from reviewbot.models import Diff, DiffLine, Hunk, Lane, hunk_id  # noqa: E402
from reviewbot.policy import parse_policy  # noqa: E402
from reviewbot.policy.model import Policy  # noqa: E402
from reviewbot.redact import Redactor  # noqa: E402
from reviewbot.router import Router  # noqa: E402
from reviewbot.tokens import get_estimator  # noqa: E402

DEFAULT_FIXTURES = ROOT.parent / "shared" / "fixtures" / "real_fixes"


def introducing_hunk(hunk: Hunk) -> Hunk | None:
    """The change that introduced ``hunk``'s old code, as an addition (None when nothing is left)."""
    removes = any(ln.kind == "-" for ln in hunk.lines)
    lines: list[DiffLine] = []
    number = hunk.old_start
    for ln in hunk.lines:
        if ln.kind == "+":
            continue
        kind = "+" if (ln.kind == "-" or not removes) else " "
        lines.append(DiffLine(kind, ln.text, None if kind == "+" else number, number))
        number += 1
    if not any(ln.kind == "+" for ln in lines):
        return None
    body = "".join(f"{ln.kind}{ln.text}\n" for ln in lines)
    header = f"@@ -{hunk.old_start},0 +{hunk.old_start},{len(lines)} @@"
    return dataclasses.replace(
        hunk,
        id=hunk_id(hunk.path, header, body),
        lines=tuple(lines),
        old_len=sum(1 for ln in lines if ln.kind == " "),
        new_start=hunk.old_start,
        new_len=len(lines),
    )


def introducing_diff(diff: Diff) -> Diff:
    files = []
    for file in diff.files:
        hunks = tuple(h for h in (introducing_hunk(h) for h in file.hunks) if h is not None)
        if hunks:
            files.append(dataclasses.replace(file, hunks=hunks))
    return Diff(files=tuple(files))


@dataclass
class Recall:
    commits: int = 0
    caught: int = 0
    hunks: int = 0
    hunks_caught: int = 0
    missed: list[str] = dataclasses.field(default_factory=list)

    def line(self, label: str) -> str:
        c = self.caught / self.commits if self.commits else 0.0
        h = self.hunks_caught / self.hunks if self.hunks else 0.0
        return (
            f"{label:<12} fix commits caught {self.caught:>3}/{self.commits} = {c:6.1%}   "
            f"fixed hunks caught {self.hunks_caught:>4}/{self.hunks} = {h:6.1%}"
        )


def recall(router: Router, fixes: Iterable[tuple[dict[str, object], Diff]]) -> Recall:
    out = Recall()
    for entry, diff in fixes:
        fix_files = set(entry["fix_files"])  # type: ignore[call-overload]
        hunks = [h for h in diff.hunks if h.path in fix_files or h.old_path in fix_files]
        if not hunks:
            continue
        out.commits += 1
        on_security = sum(1 for h in hunks if router.route_hunk(h).lane is Lane.SECURITY)
        out.hunks += len(hunks)
        out.hunks_caught += on_security
        if on_security:
            out.caught += 1
        else:
            out.missed.append(str(entry["file"]))
    return out


@dataclass
class Cost:
    lines: int = 0
    lines_security: int = 0
    lock_lines: int = 0
    tokens: int = 0
    tokens_security: int = 0
    lock_tokens_raw: int = 0
    lock_tokens_condensed: int = 0
    # what the review path sends (reviewbot.lanes.condensed): prompt text of security-lane lockfile hunks
    sent_raw: int = 0
    sent_condensed: int = 0
    sent_hunks_condensed: int = 0
    sent_hunks: int = 0
    hunks: int = 0
    hunks_security: int = 0
    commits_security: int = 0


def cost(router: Router, diffs: Iterable[Diff]) -> Cost:
    count = get_estimator().count
    out = Cost()
    for diff in diffs:
        any_security = False
        lock_files = [f for f in diff.files if is_dependency_file(f.path)]
        for file in diff.files:
            for hunk in file.hunks:
                changed = hunk.added + hunk.removed
                tokens = count(hunk.body())
                route = router.route_hunk(hunk)
                out.hunks += 1
                if route.lane is Lane.SECURITY:
                    out.hunks_security += 1
                    any_security = True
                if is_dependency_file(file.path):
                    out.lock_lines += changed
                    if route.lane is Lane.SECURITY:
                        out.lock_tokens_raw += tokens
                    continue
                out.lines += changed
                out.tokens += tokens
                if route.lane is Lane.SECURITY:
                    out.lines_security += changed
                    out.tokens_security += tokens
        if lock_files:
            condensed = condense(lock_files)
            out.lock_tokens_condensed += count(render_condensed(condensed))
            raw = set(condensed.raw)  # hunks that could not be condensed go to the lane as they are
            out.lock_tokens_condensed += sum(count(h.body()) for f in lock_files for h in f.hunks if h.id in raw)
        out.commits_security += any_security
        if lock_files:
            _review_path(router, diff, out, count)
    return out


def _review_path(router: Router, diff: Diff, out: Cost, count: Callable[[str], int]) -> None:
    """Tokens of the security-lane lockfile hunks as their raw prompt text vs as the review path sends them."""
    redactor = Redactor.from_config(router.policy.redaction)
    routes, _ = router.route_diff(diff)
    redacted = {h.id: redactor.redact(h.body()) for h in diff.hunks}
    condensed = condense_hunks(diff, routes, redactor=redactor, redacted=redacted)
    lanes = {r.hunk_id: r.lane for r in routes}
    for hunk in diff.hunks:
        if lanes.get(hunk.id) is not Lane.SECURITY or not is_dependency_file(hunk.path):
            continue
        raw = prepare_hunk(hunk, Lane.SECURITY, path=redactor.scrub(hunk.path), body=redacted[hunk.id].text)
        shown = condensed.prompts.get(hunk.id)
        out.sent_hunks += 1
        out.sent_hunks_condensed += shown is not None
        out.sent_raw += count(raw.text())
        out.sent_condensed += count((shown or raw).text())


def paths_only(policy: Policy) -> Policy:
    return dataclasses.replace(policy, routes=tuple(r for r in policy.routes if not r.content))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    ap.add_argument("--policy", type=Path, default=ROOT / "policies" / "default.yml")
    ap.add_argument("--misses", action="store_true", help="list the fix commits the full router misses")
    args = ap.parse_args()
    index_path = args.fixtures / "index.json"
    if not index_path.is_file():
        print(f"skipped: {args.fixtures} not present (the real_fixes fixtures live in ../shared/fixtures)")
        return 0
    index = json.loads(index_path.read_text("utf-8"))
    policy = parse_policy(args.policy.read_text("utf-8"), source=str(args.policy))

    def load(entry: dict[str, object]) -> Diff:
        return parse_diff((args.fixtures / str(entry["file"])).read_bytes(), origin=str(entry["file"]))

    fixes = [(e, load(e)) for e in index["fixes"]]
    introducing = [(e, introducing_diff(d)) for e, d in fixes]
    ordinary = [load(e) for e in index["ordinary"]]
    print(f"fixtures: {len(fixes)} fix commits, {len(ordinary)} ordinary commits ({args.fixtures})")
    print(f"policy: {args.policy}; token estimator: {get_estimator().name}")
    full_recall = None
    for label, router in (("paths only", Router(paths_only(policy))), ("full router", Router(policy))):
        intro, forward, spent = recall(router, introducing), recall(router, fixes), cost(router, ordinary)
        line_share = spent.lines_security / spent.lines if spent.lines else 0.0
        token_share = spent.tokens_security / spent.tokens if spent.tokens else 0.0
        print(f"\n== {label}")
        print(intro.line("introducing"))
        print(forward.line("forward fix"))
        print(
            f"ordinary: {line_share:6.1%} of non-lockfile changed lines on security "
            f"({spent.lines_security}/{spent.lines}); {token_share:6.1%} of their estimated tokens "
            f"({spent.tokens_security}/{spent.tokens}); hunks {spent.hunks_security}/{spent.hunks}; "
            f"commits {spent.commits_security}/{len(ordinary)}"
        )
        full_recall = intro
    ratio = spent.lock_tokens_raw / spent.lock_tokens_condensed if spent.lock_tokens_condensed else float("inf")
    print(
        f"\nlockfiles and manifests in ordinary commits: {spent.lock_lines} changed lines; security-lane tokens "
        f"raw {spent.lock_tokens_raw}, condensed {spent.lock_tokens_condensed} ({ratio:.1f}x less)"
    )
    sent_ratio = spent.sent_raw / spent.sent_condensed if spent.sent_condensed else float("inf")
    print(
        f"as the review path sends them: {spent.sent_hunks_condensed}/{spent.sent_hunks} security-lane lockfile "
        f"hunks condensed; hunk text raw {spent.sent_raw}, sent {spent.sent_condensed} ({sent_ratio:.1f}x less)"
    )
    print("targets: introducing fix commits caught >= 75% with <= 25% of ordinary non-lockfile lines; lockfiles >= 10x")
    if args.misses and full_recall is not None:
        print("\nmissed (introducing):", *full_recall.missed, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
