#!/usr/bin/env python3
"""Benchmark: tokens over a five-push pull request, incremental re-review vs a full review on every push.

Runs `reviewbot github` in process, five times per mode, against the loopback fakes
(tests/fakes: a fake GitHub holding a real commit history, and a fake OpenAI Responses
server that bills one token per four characters) on 127.0.0.1. No network.

The pull request: push 1 adds two functions to each of eight files (16 hunks, one of them an
SQL injection); push 2 fixes a comment in one of them; push 3 merges the base branch (which
changed two other functions); push 4 adds a helper with an eval(); push 5 renames a function.
Each mode starts from a fresh PR; "full" sets ``full-review: true`` on every push.

Prints, per mode and push, the tokens billed and the hunks sent, then the totals, the
ratio, and whether both modes posted the same findings (fingerprints of the inline
comments, and the open findings at the end). Goal: ratio >= 3 with the same findings.

    python scripts/bench_pushes.py
"""

from __future__ import annotations

import io
import json
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot import tokens  # noqa: E402
from reviewbot.errors import ReviewbotError  # noqa: E402
from reviewbot.github import run as run_mod  # noqa: E402
from reviewbot.github.client import ClientSettings  # noqa: E402
from reviewbot.github.review import MARKER_RE  # noqa: E402
from tests.fakes.github_server import FakeGitHub, serve  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, running_fake  # noqa: E402

KEY = "sk-proj-bench-0123456789abcdef"
Files = dict[str, str]


def module(name: str, n: int) -> str:
    return "".join(f"def {name}_{i}(value):\n    total = value + {i}\n    return total\n\n" for i in range(n))


def insert(text: str, after: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[:after]) + new + "".join(lines[after:])


def block(name: str, lines: int, extra: str = "") -> str:
    """A new function of ``lines`` lines (the kind of code a feature PR adds)."""
    body = "".join(f"    step_{i} = transform(step_{i - 1 if i else 'input'}, {i})\n" for i in range(lines - 3))
    return f"def {name}(input):\n{extra}{body}    return step_{lines - 4}\n\n"


FILES = ["src/auth/login.py", "src/auth/session.py", "src/app/views.py", "src/app/models.py", "src/app/forms.py",
         "src/lib/util.py", "src/lib/cache.py", "src/api/routes.py"]
BASE: Files = {path: module(path.rsplit("/", 1)[1][:-3], 40) for path in FILES} | {"README.md": "# demo\n"}
SQL = "    q = \"SELECT * FROM users WHERE name = '\" + name + \"'\"\n    row = db.query(q)\n"


def after(text: str, anchor: str, new: str) -> str:
    """Insert ``new`` after the line ``anchor`` (a merge places a change by content, not line number)."""
    assert text.count(anchor + "\n") == 1, anchor
    return text.replace(anchor + "\n", anchor + "\n" + new)


def push1(files: Files) -> Files:
    """The feature: two new functions in each of eight files (16 hunks), one with an SQL injection."""
    f = dict(files)
    for path in FILES:
        stem = path.rsplit("/", 1)[1][:-3]
        extra = "    name = input.strip()\n" + SQL if path == "src/auth/login.py" else ""
        f[path] = after(f[path], f"def {stem}_5(value):", block(f"{stem}_feature", 24, extra))
        f[path] = after(f[path], f"def {stem}_30(value):", block(f"{stem}_helper", 16))
    f["README.md"] += "\nLogin with your name.\n"
    return f


def _typo(f: Files) -> Files:
    return {**f, "src/app/forms.py": f["src/app/forms.py"].replace("step_3 = transform(step_2, 3)\n",
                                                                   "step_3 = transform(step_2, 3)  # fixed\n", 1)}


def _new_eval(f: Files) -> Files:
    return {**f, "src/lib/util.py": after(f["src/lib/util.py"], "def util_20(value):",
                                          block("util_config", 6, "    config = eval(input)\n"))}


def _rename(f: Files) -> Files:
    views = f["src/app/views.py"].replace("def views_helper(input):", "def views_render(input):")
    return {**f, "src/app/views.py": views}


def _base_change(f: Files) -> Files:
    return {**f, "src/app/models.py": after(f["src/app/models.py"], "def models_15(value):", "    audit(value)\n"),
            "src/lib/cache.py": after(f["src/lib/cache.py"], "def cache_35(value):", "    trace(value)\n")}


def reply(body: dict[str, Any]) -> str:
    """The fake model: a finding for each SQL concatenation and each eval() in the hunks it is sent."""
    if body.get("input") == "ping":
        return "pong"
    findings = []
    for hunk in json.loads(body["input"])["hunks"]:
        for needle, category, cwe, severity in (
            ("SELECT * FROM users", "SQL Injection", "CWE-89", "high"),
            ("eval(", "Code Injection", "CWE-95", "medium"),
        ):
            for line in hunk["text"].splitlines():
                m = re.match(r"^\s*\d* ([+\- ])(.*)$", line)  # "<new line no> <marker><code>"
                if m and m.group(1) == "+" and needle in m.group(2):
                    findings.append({
                        "hunk_id": hunk["hunk_id"], "category": category, "cwe": cwe, "severity": severity,
                        "confidence": "high", "title": f"{category} in {hunk['path']}",
                        "explanation": "Untrusted input reaches a dangerous sink.", "source": "value",
                        "sink": needle, "quote": m.group(2).strip(), "fix": "Do not build code from input.",
                    })
    return json.dumps({"findings": findings})


@dataclass
class Outcome:
    mode: str
    per_push: list[tuple[int, int, str]] = field(default_factory=list)  # (tokens, hunks sent, state)
    posted: set[str] = field(default_factory=set)
    final_findings: str = ""

    @property
    def total(self) -> int:
        return sum(t for t, _, _ in self.per_push)


def run_mode(mode: str, tmp: Path) -> Outcome:
    fake = FakeGitHub()
    fake.add_pull(7, author="alice")
    base = fake.commit(BASE, message="base")
    pr = fake.pulls[7]
    pr.base_sha = base
    head = base
    trees = {base: dict(BASE)}
    outcome = Outcome(mode)
    tmp.mkdir(parents=True, exist_ok=True)
    running = serve(fake)
    tokens.reset_cache()
    try:
        with running_fake(keys={KEY: "main"}, reply=reply) as openai:
            pushes: list[tuple[Callable[[Files], Files], bool]] = [  # (edit, a merge of the base branch?)
                (push1, False), (_typo, False), (_base_change, True), (_new_eval, False), (_rename, False),
            ]
            for edit, merge in pushes:
                if merge:
                    new_base_files = edit(trees[pr.base_sha])
                    new_base = fake.commit(new_base_files, [pr.base_sha], "base moves")
                    trees[new_base] = new_base_files
                    merged = edit(trees[head])
                    head = fake.commit(merged, [head, new_base], "Merge main")
                    trees[head] = merged
                    pr.base_sha = new_base
                else:
                    files = edit(trees[head])
                    head = fake.commit(files, [head], "push")
                    trees[head] = files
                pr.head_sha = head
                outcome.per_push.append(_one_run(fake, running.url, openai, tmp, full=mode == "full"))
            outcome.posted = {fp for c in pr.review_comments for fp in MARKER_RE.findall(c.body)}
    finally:
        running.close()
    return outcome


def _one_run(fake: FakeGitHub, api_url: str, openai: FakeOpenAI, tmp: Path, *, full: bool) -> tuple[int, int, str]:
    event = tmp / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "number": 7,
                                 "pull_request": fake.pull_json(fake.pulls[7])}), encoding="utf-8")
    output = tmp / "github_output"
    output.write_text("", encoding="utf-8")
    env = {
        "GITHUB_REPOSITORY": fake.full_name, "GITHUB_API_URL": api_url, "GITHUB_TOKEN": fake.token,
        "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp / "runner"), "GITHUB_WORKSPACE": str(tmp), "REVIEWBOT_TOKENIZER": "conservative",
        "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": openai.base_url, "REVIEWBOT_FULL_REVIEW": "true" if full else "",
    }
    billed, sent = openai.tokens_billed(), len(openai.bodies())
    try:
        outcome = run_mod.run_github(run_mod.options_from_env(env), env, cwd=tmp, out=io.StringIO(),
                                     err=io.StringIO())
        state = outcome.state.value
    except ReviewbotError as exc:
        state = f"error: {exc.message}"
    hunks = sum(len(json.loads(b["input"])["hunks"]) for b in openai.bodies()[sent:] if b.get("input") != "ping")
    return openai.tokens_billed() - billed, hunks, state


def main() -> int:
    run_mod.client_settings = lambda ctx: ClientSettings(  # no pauses between requests to the loopback fake
        api_url=ctx.api_url, token=ctx.token or "", retries=1, max_wait=5,
        seconds_between_requests=0, seconds_between_writes=0,
    )
    with tempfile.TemporaryDirectory(prefix="bench-pushes-") as tmp:
        results = [run_mode(mode, Path(tmp) / mode) for mode in ("incremental", "full")]
    names = ["push 1", "typo fix", "merge of the base branch", "a new eval()", "rename in views"]
    print("reviewbot bench_pushes: five pushes of one pull request (fake GitHub + fake model, 127.0.0.1)")
    print(f"{'push':<26} {'incremental':>22} {'full every push':>22}")
    for i, name in enumerate(names):
        cells = [f"{r.per_push[i][0]:>7,} tok {r.per_push[i][1]:>3} hunks" for r in results]
        print(f"{name:<26} {cells[0]:>22} {cells[1]:>22}")
    inc, full = results
    print(f"{'total tokens':<26} {inc.total:>22,} {full.total:>22,}")
    print(f"states: incremental {[s for _, _, s in inc.per_push]}, full {[s for _, _, s in full.per_push]}")
    ratio = full.total / inc.total if inc.total else float("inf")
    same = inc.posted == full.posted
    print(f"ratio (full / incremental): {ratio:.2f}x fewer tokens with incremental review (goal >= 3x)")
    print(f"findings posted inline: incremental {len(inc.posted)}, full {len(full.posted)}; "
          f"same fingerprints: {'yes' if same else 'NO'}")
    return 0 if ratio >= 3 and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
