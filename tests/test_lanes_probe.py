"""The probe against the loopback fake: what is sent, how each answer resolves a lane."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from reviewbot.audit import AuditLog
from reviewbot.lanes.client import Endpoint, lane_endpoint
from reviewbot.lanes.ledger import Ledger
from reviewbot.lanes.probe import PROBE_INPUT_RESERVE, PROBE_MAX_OUTPUT, Prober
from reviewbot.lanes.reviewer import OpenAIReviewer
from reviewbot.models import Lane
from reviewbot.policy.model import LaneConfig, Policy
from tests.fakes.openai_server import FakeOpenAI, running_fake

CYBER_KEY = "sk-proj-cyber-0123456789abcdef"
GENERAL_KEY = "sk-proj-general-0123456789abcdef"
CYBER = ("gpt-5.5-cyber-preview", "gpt-5.6-cyber")


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running_fake(keys={CYBER_KEY: "cyber", GENERAL_KEY: "general"}, hang_seconds=3) as f:
        yield f
        assert not f.schema_errors, f.schema_errors
        assert all(r.key_label != "<invalid>" for r in f.requests)


def _prober(fake: FakeOpenAI, policy: Policy | None = None, **kw: object) -> Prober:
    endpoints = {
        Lane.SECURITY: Endpoint(CYBER_KEY, fake.base_url, "OPENAI_API_KEY_CYBER"),
        Lane.GENERAL: Endpoint(GENERAL_KEY, fake.base_url, "OPENAI_API_KEY_GENERAL"),
    }
    return Prober(policy or Policy(), OpenAIReviewer(endpoints), timeout=kw.pop("timeout", 5.0), **kw)  # type: ignore[arg-type]


def test_probe_sends_the_review_calls_model_and_access_program_and_resolves(fake: FakeOpenAI) -> None:
    ledger = Ledger(10_000)
    audit = AuditLog()
    report = _prober(fake, ledger=ledger, audit=audit).run()
    sec, gen = report.resolution(Lane.SECURITY), report.resolution(Lane.GENERAL)
    assert sec is not None and gen is not None
    assert (sec.served_by, sec.fell_back, sec.access_program) == (
        "gpt-5.5-cyber-preview",
        False,
        "daybreak_red",
    )
    assert (gen.served_by, gen.fell_back, gen.access_program) == ("gpt-5.5", False, None)
    bodies = {b["model"]: b for b in fake.bodies()}
    assert bodies["gpt-5.5-cyber-preview"] == {
        "model": "gpt-5.5-cyber-preview",
        "input": "ping",
        "max_output_tokens": 16,
        "store": False,
        "access_programs": {"cyber": "daybreak_red"},
    }
    assert "access_programs" not in bodies["gpt-5.5"]
    assert [r.key_label for r in fake.requests] == ["general", "cyber"] or sorted(
        r.key_label for r in fake.requests
    ) == ["cyber", "general"]
    by_model = {r.body["model"]: r.key_label for r in fake.requests}
    assert by_model == {"gpt-5.5-cyber-preview": "cyber", "gpt-5.5": "general"}
    # usage is charged to the budget, and every probe is in the audit log
    snap = ledger.snapshot()
    assert snap.charged == report.usage.total > 0 and snap.reserved == 0 and snap.calls == 2
    events = [json.loads(line) for line in audit.lines]
    assert sorted(e["model"] for e in events if e["event"] == "probe") == ["gpt-5.5", "gpt-5.5-cyber-preview"]
    assert all(r.headers.get("x-stainless-retry-count") == "0" for r in fake.requests)


def test_denied_and_missing_security_models_fall_back_to_general_in_the_open(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "not_found")
    fake.script("gpt-5.6-cyber", "deny")
    report = _prober(fake).run()
    sec = report.resolution(Lane.SECURITY)
    assert sec is not None
    assert (sec.served_by, sec.served_lane, sec.fell_back) == ("gpt-5.5", Lane.GENERAL, True)
    assert "not found (404)" in sec.reason and "denied (403 model_access_denied)" in sec.reason
    assert report.all_served and not report.fatal
    assert [a.outcome for a in report.lanes[1].attempts] == ["not-found", "denied"]


def test_misspelt_cyber_model_gets_a_hint(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber", "not_found")
    policy = Policy(
        lanes=(
            LaneConfig(Lane.SECURITY, ("gpt-5.5-cyber",), "daybreak_red", Lane.GENERAL),
            LaneConfig(Lane.GENERAL, ("gpt-5.5",)),
        )
    )
    attempt = _prober(fake, policy).run().lanes[1].attempts[0]
    assert attempt.outcome == "not-found" and attempt.hint == "did you mean gpt-5.5-cyber-preview?"


def test_served_under_a_weaker_program_is_a_stated_fallback(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "allow_standard")
    fake.script("gpt-5.6-cyber", "allow_standard")
    sec = _prober(fake).run().resolution(Lane.SECURITY)
    assert sec is not None
    assert sec.served_by == "gpt-5.5-cyber-preview" and sec.fell_back and sec.access_program is None
    assert "standard" in sec.reason and "daybreak_red" in sec.reason


def test_a_later_candidate_served_in_full_beats_a_downgraded_one(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "allow_standard")
    sec = _prober(fake).run().resolution(Lane.SECURITY)
    assert sec is not None and sec.served_by == "gpt-5.6-cyber" and not sec.fell_back


def test_incomplete_reply_still_proves_access(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "incomplete")
    report = _prober(fake).run()
    sec = report.resolution(Lane.SECURITY)
    assert sec is not None and sec.served_by == "gpt-5.5-cyber-preview"
    assert report.lanes[1].attempts[0].response_status == "incomplete"


@pytest.mark.parametrize(
    ("behaviour", "outcome"), [("bad_key", "bad-key"), ("quota", "quota"), ("spend_limit", "quota")]
)
def test_bad_key_and_quota_are_fatal_and_stop_probing_that_key(
    fake: FakeOpenAI, behaviour: str, outcome: str
) -> None:
    fake.script(None, behaviour, key="cyber")
    report = _prober(fake).run()
    sec = report.lanes[1]
    assert [a.outcome for a in sec.attempts] == [outcome]  # the second cyber model is not tried
    assert report.fatal and report.fatal[0][0] == "OPENAI_API_KEY_CYBER"


@pytest.mark.parametrize(
    ("behaviour", "outcome"),
    [
        ("hang", "unreachable"),
        ("fail503", "unreachable"),
        ("fail500", "unreachable"),
        ("rate_limit", "rate-limited"),
    ],
)
def test_probe_never_retries_and_moves_to_the_next_model(
    fake: FakeOpenAI, behaviour: str, outcome: str
) -> None:
    fake.script("gpt-5.5-cyber-preview", behaviour)
    report = _prober(fake, timeout=0.3).run()
    sec = report.lanes[1]
    assert [a.outcome for a in sec.attempts] == [outcome, "ok"]
    assert sec.resolution.served_by == "gpt-5.6-cyber"
    assert sum(1 for r in fake.requests if r.body["model"] == "gpt-5.5-cyber-preview") == 1


def test_invalid_access_program_is_a_config_error_not_a_silent_fallback(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "invalid_access_program")
    report = _prober(fake).run()
    sec = report.resolution(Lane.SECURITY)
    assert sec is not None and sec.served_by is None and not sec.fell_back
    assert report.config_errors and "daybreak_red" in report.config_errors[0]


def test_cyber_policy_on_a_probe_is_not_access(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "cyber_policy")
    assert _prober(fake).run().lanes[1].attempts[0].outcome == "blocked"


def test_refusal_and_invalid_json_replies_still_prove_access(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "refuse")
    fake.script("gpt-5.5", "invalid_json")
    report = _prober(fake).run()
    assert report.all_served and not any(r.fell_back for r in report.resolutions)


def test_probes_are_cached_per_run(fake: FakeOpenAI) -> None:
    prober = _prober(fake)
    prober.run()
    n = len(fake.requests)
    prober.run()
    prober.probe_model(Policy().lane(Lane.GENERAL), "gpt-5.5")
    assert len(fake.requests) == n == 2


def test_no_budget_no_probe(fake: FakeOpenAI) -> None:
    report = _prober(fake, ledger=Ledger(PROBE_INPUT_RESERVE + PROBE_MAX_OUTPUT)).run()
    # exactly one probe fits; the other lane is not probed and says why
    assert len(fake.requests) == 1
    assert any(a.outcome == "over-budget" for p in report.lanes for a in p.attempts)


def test_recorded_requests_never_hold_the_key(fake: FakeOpenAI) -> None:
    fake.script("gpt-5.5-cyber-preview", "deny")
    _prober(fake).run()
    dump = json.dumps([r.__dict__ for r in fake.requests], default=str)
    assert CYBER_KEY not in dump and GENERAL_KEY not in dump and "authorization" not in dump.lower()


@pytest.mark.parametrize(
    ("env", "lane", "expected"),
    [
        ({"OPENAI_API_KEY": "a", "OPENAI_API_KEY_CYBER": "c"}, Lane.SECURITY, "OPENAI_API_KEY_CYBER"),
        ({"OPENAI_API_KEY": "a", "OPENAI_API_KEY_CYBER": ""}, Lane.SECURITY, "OPENAI_API_KEY"),
        ({"OPENAI_API_KEY": "a", "OPENAI_API_KEY_GENERAL": "g"}, Lane.GENERAL, "OPENAI_API_KEY_GENERAL"),
        ({"OPENAI_API_KEY": "a", "OPENAI_API_KEY_CYBER": "c"}, Lane.GENERAL, "OPENAI_API_KEY"),
        ({"OPENAI_API_KEY": "  "}, Lane.GENERAL, None),
        ({}, Lane.SECURITY, None),
    ],
)
def test_lane_keys_from_the_environment(env: dict[str, str], lane: Lane, expected: str | None) -> None:
    ep = lane_endpoint(lane, env)
    assert (ep.key_source if ep else None) == expected


def test_base_url_from_the_environment_and_the_key_is_not_in_repr() -> None:
    ep = lane_endpoint(
        Lane.GENERAL, {"OPENAI_API_KEY": "sk-secret", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}
    )
    assert ep is not None and ep.base_url == "http://127.0.0.1:1/v1" and "sk-secret" not in repr(ep)
    empty = lane_endpoint(Lane.GENERAL, {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": ""})
    assert empty is not None and empty.base_url == "https://api.openai.com/v1"  # the default, never contacted
