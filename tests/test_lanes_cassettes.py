"""Replay of a probe, one review exchange and an escalation exchange recorded against the loopback fake.

Recorded with ``--record-mode=rewrite`` (the fake is started and the SDK pointed
at it); replayed with ``--record-mode=none`` against ``http://127.0.0.1:9/v1``,
where nothing listens: requests match on method, path and body, never on the
host's port. The authorization header is filtered out when recording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewbot.lanes.client import Endpoint
from reviewbot.lanes.probe import Prober
from reviewbot.lanes.reviewer import OpenAIReviewer
from reviewbot.models import Lane
from reviewbot.policy.model import Policy
from tests.fakes.openai_server import review_output, running_fake, wants_escalations
from tests.lanes_helpers import SQL_HUNK_LINES, engine_for, make_hunk, plan_of, quoting_reply

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY_URL = "http://127.0.0.1:9/v1"
KEY = "sk-cassette-recording-key-0000"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {"filter_headers": ["authorization"], "match_on": ["method", "path", "body"]}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("--record-mode") in (None, "none"):
        yield REPLAY_URL
        return
    with running_fake() as fake:
        fake.reply = quoting_reply("    return db.query(q)")
        yield fake.base_url


def _reviewer(base_url: str) -> OpenAIReviewer:
    ep = Endpoint(KEY, base_url, "OPENAI_API_KEY")
    return OpenAIReviewer({Lane.SECURITY: ep, Lane.GENERAL: ep})


@pytest.mark.vcr
def test_probe_replay(base_url: str) -> None:
    report = Prober(Policy(), _reviewer(base_url), timeout=5).run()
    assert [r.served_by for r in report.resolutions] == ["gpt-5.5", "gpt-5.5-cyber-preview"]
    assert report.resolution(Lane.SECURITY).access_program == "daybreak_red"  # type: ignore[union-attr]
    assert report.usage.total > 0


@pytest.mark.vcr
def test_review_exchange_replay(base_url: str) -> None:
    h = make_hunk("src/auth/db.py", SQL_HUNK_LINES)
    engine, ledger, _ = engine_for(base_url, reviewer=_reviewer(base_url))
    result = engine.run(plan_of((Lane.SECURITY, [h])), {h.id: h})
    (finding,) = result.findings
    assert (finding.path, finding.start_line, finding.placed) == ("src/auth/db.py", 12, True)
    assert ledger.snapshot().charged > 0


def escalating_reply(body: dict[str, Any]) -> str:
    """General lane: no finding, escalate every hunk. Security lane: the SQL finding."""
    if body["input"] == "ping":
        return "pong"
    if wants_escalations(body):
        hunks = json.loads(body["input"])["hunks"]
        esc = [{"hunk_id": h["hunk_id"], "needed": True, "reason": "builds SQL from request input"} for h in hunks]
        return review_output(body, [], esc)
    return quoting_reply("    return db.query(q)")(body)


@pytest.fixture
def escalating_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("--record-mode") in (None, "none"):
        yield REPLAY_URL
        return
    with running_fake() as fake:
        fake.reply = escalating_reply
        yield fake.base_url


@pytest.mark.vcr
def test_escalation_exchange_replay(escalating_url: str) -> None:
    """The general lane's schema and an escalation pass, as the SDK sends and reads them."""
    from reviewbot.lanes.escalation import escalate
    from reviewbot.lanes.prompt import prepare_hunk
    from reviewbot.models import RedactedText
    from reviewbot.planner import PlanItem

    h = make_hunk("app/db.py", SQL_HUNK_LINES)
    engine, ledger, _ = engine_for(escalating_url, reviewer=_reviewer(escalating_url))
    first = engine.run(plan_of((Lane.GENERAL, [h])), {h.id: h})
    assert first.findings == () and [e.hunk_id for e in first.escalations] == [h.id]
    text = prepare_hunk(h, Lane.GENERAL, path=RedactedText(h.path), body=RedactedText(h.body())).text()
    second = escalate(
        engine, first, policy=engine.policy, items=[PlanItem(h, Lane.GENERAL, text)], hunks={h.id: h},
        remaining=ledger.snapshot().remaining, count=lambda t: len(t) // 2 + 1, overhead=2000,
        estimator="conservative",
    )
    (esc,) = second.escalations
    assert esc.reviewed and esc.reason == "builds SQL from request input"
    assert second.result is not None
    (finding,) = second.result.findings
    assert (finding.path, finding.start_line, finding.lane) == ("app/db.py", 12, Lane.SECURITY)


@pytest.mark.parametrize(
    "name", ["test_probe_replay.yaml", "test_review_exchange_replay.yaml", "test_escalation_exchange_replay.yaml"]
)
def test_cassettes_hold_no_key(name: str) -> None:
    path = CASSETTES / name
    if not path.is_file():
        pytest.skip(f"cassette {name} not recorded yet")
    text = path.read_text()
    assert KEY not in text and "authorization" not in text.lower()
    assert "/v1/responses" in text and json.dumps("store")[1:-1] in text
