"""Replay of a probe and one review exchange recorded against the loopback fake.

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
from tests.fakes.openai_server import running_fake
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


@pytest.mark.parametrize("name", ["test_probe_replay.yaml", "test_review_exchange_replay.yaml"])
def test_cassettes_hold_no_key(name: str) -> None:
    path = CASSETTES / name
    if not path.is_file():
        pytest.skip(f"cassette {name} not recorded yet")
    text = path.read_text()
    assert KEY not in text and "authorization" not in text.lower()
    assert "/v1/responses" in text and json.dumps("store")[1:-1] in text
