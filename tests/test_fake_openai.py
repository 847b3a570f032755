"""The fake Responses API really checks what it is sent: ``assert not fake.schema_errors`` elsewhere
in the suite means something only if the validator is on and rejects a bad body."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAI, running_fake


def _post(fake: FakeOpenAI, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the loopback fake
        f"{fake.base_url}/responses",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer sk-test-fake"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 - loopback fake
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_spec_validator_is_on_when_the_shared_spec_is_present(shared_fixtures: Path) -> None:
    assert (shared_fixtures / "openai" / "openapi.json").is_file()
    with running_fake() as fake:
        assert fake.validation_note is None


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"model": "gpt-5.5", "input": "ping", "max_output_tokens": "sixteen"}, "max_output_tokens"),
        ({"model": "gpt-5.5", "input": "ping", "store": "no"}, "store"),
        ({"model": "gpt-5.5", "input": "ping", "access_programs": {"cyber": "daybreak_purple"}}, "access_programs"),
        ({"input": "ping"}, "model"),
    ],
)
def test_a_body_outside_create_response_is_refused_and_recorded(
    shared_fixtures: Path, body: dict[str, Any], where: str
) -> None:
    with running_fake() as fake:
        status, payload = _post(fake, body)
        assert status == 400 and where in payload["error"]["message"]
        assert fake.schema_errors and any(where in e for e in fake.schema_errors)


def test_a_valid_minimal_probe_body_is_accepted(shared_fixtures: Path) -> None:
    with running_fake() as fake:
        status, payload = _post(
            fake, {"model": "gpt-5.5", "input": "ping", "max_output_tokens": 16, "store": False}
        )
        assert status == 200 and payload["object"] == "response" and payload["usage"]["input_tokens"] > 0
        assert fake.schema_errors == []
