"""The error table of DESIGN.md §4, and the SDK exceptions the fake server makes the SDK raise."""

from __future__ import annotations

import random

import httpx2
import openai
import pytest

from reviewbot.errors import EXIT_AUTH
from reviewbot.lanes.errors import (
    Classified,
    ErrorKind,
    LaneCallError,
    classify,
    classify_status,
    fatal_error,
    retry_after_seconds,
)
from reviewbot.lanes.retry import BackoffGate, RetryPolicy, call_with_retry
from tests.fakes.openai_server import running_fake

K = ErrorKind


@pytest.mark.parametrize(
    ("status", "code", "error_type", "kind"),
    [
        (404, "model_not_found", "invalid_request_error", K.LANE_UNAVAILABLE),
        (403, "model_access_denied", "invalid_request_error", K.LANE_UNAVAILABLE),
        (403, None, "permission_error", K.LANE_UNAVAILABLE),
        (401, "invalid_api_key", "invalid_request_error", K.AUTH),
        (429, "insufficient_quota", "insufficient_quota", K.QUOTA),
        (429, "project_spend_limit_exceeded", "insufficient_quota", K.QUOTA),
        (429, "organization_spend_limit_exceeded", None, K.QUOTA),
        (429, "credit_balance_exhausted", None, K.QUOTA),
        (429, "organization_usage_limit_exceeded", None, K.QUOTA),
        (429, None, "insufficient_quota", K.QUOTA),
        (429, "rate_limit_exceeded", "requests", K.RATE_LIMIT),
        (429, None, None, K.RATE_LIMIT),
        (408, None, None, K.TRANSIENT),
        (409, None, None, K.TRANSIENT),
        (500, None, "server_error", K.TRANSIENT),
        (503, None, None, K.TRANSIENT),
        (None, None, None, K.TRANSIENT),
        (400, "cyber_policy", "invalid_request_error", K.SAFEGUARD),
        (400, "invalid_access_program", "invalid_request_error", K.CONFIG),
        (400, "invalid_value", "invalid_request_error", K.FAILED),
        (422, None, None, K.FAILED),
    ],
)
def test_classification_table(
    status: int | None, code: str | None, error_type: str | None, kind: ErrorKind
) -> None:
    assert classify_status(status, code, error_type=error_type).kind is kind


def test_only_rate_limits_and_transients_are_retryable_and_only_auth_and_quota_fatal() -> None:
    assert {k for k in ErrorKind if k.retryable} == {K.RATE_LIMIT, K.TRANSIENT}
    assert {k for k in ErrorKind if k.fatal} == {K.AUTH, K.QUOTA}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "junk", "retry-after": "2"}, 2.0),
        ({}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    now = 1445412480.0  # 2015-10-21 07:28:00 GMT
    assert retry_after_seconds(headers, now=now) == expected


def test_timeout_is_caught_before_connection_error() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/responses")
    assert issubclass(openai.APITimeoutError, openai.APIConnectionError)
    assert classify(openai.APITimeoutError(request)).message == "timeout"
    assert classify(openai.APIConnectionError(request=request)).message == "connection error"
    assert classify(openai.APITimeoutError(request)).kind is K.TRANSIENT


@pytest.mark.parametrize(
    ("behaviour", "kind", "status", "code"),
    [
        ("deny", K.LANE_UNAVAILABLE, 403, "model_access_denied"),
        ("not_found", K.LANE_UNAVAILABLE, 404, "model_not_found"),
        ("bad_key", K.AUTH, 401, "invalid_api_key"),
        ("quota", K.QUOTA, 429, "insufficient_quota"),
        ("spend_limit", K.QUOTA, 429, "project_spend_limit_exceeded"),
        ("rate_limit", K.RATE_LIMIT, 429, "rate_limit_exceeded"),
        ("fail500", K.TRANSIENT, 500, None),
        ("fail503", K.TRANSIENT, 503, None),
        ("cyber_policy", K.SAFEGUARD, 400, "cyber_policy"),
        ("invalid_access_program", K.CONFIG, 400, "invalid_access_program"),
    ],
)
def test_real_sdk_exceptions_from_the_fake_classify(
    behaviour: str, kind: ErrorKind, status: int, code: str | None
) -> None:
    with running_fake(retry_after_ms=40) as fake:
        fake.script("gpt-5.5", behaviour)
        client = openai.OpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0, timeout=5)
        with pytest.raises(openai.APIStatusError) as info:
            client.responses.create(model="gpt-5.5", input="ping", max_output_tokens=16, store=False)
        assert len(fake.requests) == 1  # max_retries=0: the SDK never retried by itself
    got = classify(info.value)
    assert (got.kind, got.status, got.code) == (kind, status, code)
    if behaviour == "rate_limit":
        assert got.retry_after == 0.04  # retry-after-ms wins over retry-after


def test_hang_past_the_timeout_is_a_transient_timeout() -> None:
    with running_fake(hang_seconds=3) as fake:
        fake.script("gpt-5.5", "hang")
        client = openai.OpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0, timeout=0.2)
        with pytest.raises(openai.APITimeoutError) as info:
            client.responses.create(model="gpt-5.5", input="ping", max_output_tokens=16, store=False)
    assert classify(info.value) == Classified(K.TRANSIENT, None, None, "timeout")


def test_connection_refused_is_transient() -> None:
    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=1)
    with pytest.raises(openai.APIConnectionError) as info:
        client.responses.create(model="gpt-5.5", input="ping", max_output_tokens=16, store=False)
    assert classify(info.value).kind is K.TRANSIENT


def test_short_reason_texts() -> None:
    assert classify_status(403, "model_access_denied").short == "denied (403 model_access_denied)"
    assert classify_status(404, "model_not_found").short == "not found (404 model_not_found)"
    assert classify_status(401, "invalid_api_key").short == "bad key (401 invalid_api_key)"
    assert Classified(K.TRANSIENT, None, None, "timeout").short == "unreachable (timeout)"


def test_fatal_errors_exit_4_with_a_hint() -> None:
    err = fatal_error(classify_status(401, "invalid_api_key"), key_source="OPENAI_API_KEY_CYBER")
    assert err.exit_code == EXIT_AUTH and "OPENAI_API_KEY_CYBER" in err.message and err.hint
    quota = fatal_error(classify_status(429, "insufficient_quota"))
    assert quota.exit_code == EXIT_AUTH and "quota" in quota.message


# -- retry ---------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _failing(kinds: list[Classified]) -> tuple[list[int], object]:
    calls: list[int] = []

    def fn(attempt: int) -> str:
        calls.append(attempt)
        if kinds:
            raise LaneCallError(kinds.pop(0))
        return "ok"

    return calls, fn


def test_retry_honours_retry_after_and_shares_it_across_workers() -> None:
    fc = FakeClock()
    gate = BackoffGate(clock=fc.clock, sleep=fc.sleep)
    calls, fn = _failing([classify_status(429, "rate_limit_exceeded", headers={"retry-after-ms": "1500"})])
    assert call_with_retry(fn, policy=RetryPolicy(), gate=gate) == "ok"  # type: ignore[arg-type]
    assert calls == [1, 2] and fc.sleeps == [1.5]
    gate.push(2.0)  # another worker's 429 ...
    assert gate.wait() == 2.0  # ... holds this one back too


def test_retry_is_bounded_in_attempts_with_jittered_exponential_backoff() -> None:
    fc = FakeClock()
    gate = BackoffGate(clock=fc.clock, sleep=fc.sleep)
    calls, fn = _failing([classify_status(503)] * 10)
    with pytest.raises(LaneCallError):
        call_with_retry(
            fn,
            policy=RetryPolicy(max_attempts=4, base_delay=1.0),
            gate=gate,
            rng=random.Random(1),  # type: ignore[arg-type]
        )
    assert calls == [1, 2, 3, 4]
    assert len(fc.sleeps) == 3
    for n, slept in enumerate(fc.sleeps):
        assert 0.75 * 2**n <= slept <= 2**n  # up to 25 % jitter below the exponential step


def test_retry_is_bounded_in_total_time() -> None:
    fc = FakeClock()
    gate = BackoffGate(clock=fc.clock, sleep=fc.sleep)
    calls, fn = _failing([classify_status(429, headers={"retry-after": "8"})] * 10)
    with pytest.raises(LaneCallError):
        call_with_retry(fn, policy=RetryPolicy(max_attempts=10, max_total_seconds=20), gate=gate)  # type: ignore[arg-type]
    assert calls == [1, 2, 3] and sum(fc.sleeps) <= 20


@pytest.mark.parametrize(
    "classified",
    [
        classify_status(401),
        classify_status(429, "insufficient_quota"),
        classify_status(403),
        classify_status(400, "cyber_policy"),
    ],
)
def test_non_retryable_errors_are_not_retried(classified: Classified) -> None:
    fc = FakeClock()
    calls, fn = _failing([classified])
    with pytest.raises(LaneCallError):
        call_with_retry(fn, policy=RetryPolicy(), gate=BackoffGate(clock=fc.clock, sleep=fc.sleep))  # type: ignore[arg-type]
    assert calls == [1] and fc.sleeps == []
