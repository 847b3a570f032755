"""Shared builders for the model-lane tests (hunks, plans, an engine against the fake)."""

from __future__ import annotations

import json
import re
from typing import Any

from reviewbot.audit import AuditLog
from reviewbot.lanes.client import Endpoint
from reviewbot.lanes.engine import Engine
from reviewbot.lanes.ledger import Ledger
from reviewbot.lanes.retry import RetryPolicy
from reviewbot.lanes.reviewer import OpenAIReviewer, Reviewer
from reviewbot.models import (
    DiffLine,
    FileStatus,
    Hunk,
    Lane,
    LaneResolution,
    Plan,
    PlannedRequest,
    RedactedText,
    hunk_id,
)
from reviewbot.policy.model import Policy, ReviewSettings
from tests.fakes.openai_server import review_output

SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def make_hunk(path: str, lines: list[tuple[str, str]], new_start: int = 10, old_start: int = 10) -> Hunk:
    out: list[DiffLine] = []
    old, new = old_start, new_start
    for kind, text in lines:
        if kind == "-":
            out.append(DiffLine("-", text, old, None))
            old += 1
        elif kind == "+":
            out.append(DiffLine("+", text, None, new))
            new += 1
        else:
            out.append(DiffLine(" ", text, old, new))
            old += 1
            new += 1
    new_len, old_len = new - new_start, old - old_start
    body = "".join(f"{ln.kind}{ln.text}\n" for ln in out)
    header = f"@@ -{old_start},{old_len} +{new_start},{new_len} @@"
    return Hunk(
        hunk_id(path, header, body),
        path,
        None,
        FileStatus.MODIFIED,
        old_start,
        old_len,
        new_start,
        new_len,
        "",
        tuple(out),
        frozenset(range(new_start, new)),
        "python",
    )


SQL_HUNK_LINES = [
    (" ", "def find(user_id):"),
    ("-", "    return db.query('SELECT * FROM t WHERE id = ?', user_id)"),
    ("+", "    q = \"SELECT * FROM t WHERE id = \" + request.args['id']"),
    ("+", "    return db.query(q)"),
    (" ", ""),
]


def plan_of(*groups: tuple[Lane, list[Hunk]], max_output: int = 400, est: int = 100) -> Plan:
    reqs = tuple(
        PlannedRequest(f"r{n}", lane, tuple(h.id for h in hs), est, max_output) for n, (lane, hs) in enumerate(groups)
    )
    return Plan(reqs, (), 1_000_000, "conservative")


def resolutions(
    security: str | None = "gpt-5.5-cyber-preview", general: str | None = "gpt-5.5"
) -> list[LaneResolution]:
    return [
        LaneResolution(
            Lane.SECURITY,
            ("gpt-5.5-cyber-preview",),
            security,
            Lane.SECURITY if security else None,
            "ok",
            "daybreak_red",
        ),
        LaneResolution(Lane.GENERAL, ("gpt-5.5",), general, Lane.GENERAL if general else None, "ok"),
    ]


def redact(text: str) -> RedactedText:
    return RedactedText(text.replace(SECRET, "[REDACTED:github-pat:1]"))


def quoting_reply(quote: str, **over: Any) -> Any:
    """A fake reply function: one finding quoting ``quote`` in the request's first hunk."""

    def reply(body: dict[str, Any]) -> str:
        if body["input"] == "ping":
            return "pong"
        data = json.loads(body["input"])
        finding = {
            "hunk_id": data["hunks"][0]["hunk_id"],
            "category": "SQL Injection",
            "cwe": "cwe-89",
            "severity": "high",
            "confidence": "high",
            "title": "SQL built from request input",
            "explanation": "request.args['id'] is concatenated into SQL.",
            "source": "request.args['id']",
            "sink": "db.query",
            "quote": quote,
            "fix": "Use a bound parameter.",
        }
        finding.update(over)
        return review_output(body, [finding])

    return reply


def numbers_in(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"^\s*(\d+) ", text, flags=re.M)]


def engine_for(
    base_url: str,
    *,
    policy: Policy | None = None,
    budget: int = 1_000_000,
    res: list[LaneResolution] | None = None,
    reviewer: Reviewer | None = None,
    timeout: float = 5.0,
    **kw: Any,
) -> tuple[Engine, Ledger, AuditLog]:
    policy = policy or Policy(review=ReviewSettings(max_parallel=4, timeout_seconds=timeout, max_retries=2))
    ledger = Ledger(budget)
    audit = AuditLog()
    reviewer = reviewer or OpenAIReviewer(
        {
            Lane.SECURITY: Endpoint("sk-cyber-test-key-000000", base_url, "OPENAI_API_KEY_CYBER"),
            Lane.GENERAL: Endpoint("sk-general-test-key-00000", base_url, "OPENAI_API_KEY_GENERAL"),
        }
    )
    engine = Engine(
        policy,
        reviewer,
        resolutions=res if res is not None else resolutions(),
        ledger=ledger,
        audit=audit,
        redact=redact,
        scrub=redact,
        safety_identifier="rb-test",
        estimate=lambda text: len(text) // 2 + 1,
        retry=kw.pop("retry", RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)),
        **kw,
    )
    return engine, ledger, audit
