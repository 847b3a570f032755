"""`reviewbot probe` end to end: the CLI in-process against the loopback fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.commands import probe as probe_cmd
from reviewbot.models import Lane
from reviewbot.policy.model import LaneConfig, Policy
from tests.fakes.openai_server import FakeOpenAI, running_fake

KEY = "sk-proj-probe-cmd-0123456789"
POLICY = """\
version: 1
lanes:
  security: {models: [gpt-5.5-cyber-preview, gpt-5.6-cyber], access_program: daybreak_red, fallback: general}
  general: {models: [gpt-5.5]}
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeOpenAI]:
    for name in (
        "OPENAI_API_KEY_CYBER",
        "OPENAI_API_KEY_GENERAL",
        "MODEL_CYBER",
        "MODEL_GENERAL",
        "SECURITY_PATHS",
    ):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "policy.yml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    # Only this command: the others are being built at the same time and may not import yet.
    with running_fake(keys={KEY: "main"}) as f:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", f.base_url)
        yield f
        assert not f.schema_errors


def test_text_report_all_lanes_served(fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--policy", "policy.yml"]) == 0
    out = capsys.readouterr().out
    assert "lane security (key OPENAI_API_KEY, access program daybreak_red)" in out
    assert "-> served by gpt-5.5-cyber-preview" in out and "-> served by gpt-5.5" in out
    assert "probe tokens spent:" in out
    assert KEY not in out


def test_json_report_with_fallback_and_hint(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake.script("gpt-5.5-cyber-preview", "not_found")
    fake.script("gpt-5.6-cyber", "deny")
    assert main(["probe", "--policy", "policy.yml", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    sec = next(lane for lane in data["lanes"] if lane["lane"] == "security")
    assert [(a["model"], a["outcome"], a["status"]) for a in sec["attempts"]] == [
        ("gpt-5.5-cyber-preview", "not-found", 404),
        ("gpt-5.6-cyber", "denied", 403),
    ]
    assert (sec["served_by"], sec["served_lane"], sec["fell_back"]) == ("gpt-5.5", "general", True)
    assert data["ok"] is True and data["usage"]["input_tokens"] > 0


def test_text_report_shows_the_hint(fake: FakeOpenAI) -> None:
    # The policy loader already rejects "gpt-5.5-cyber"; a Policy built in code can still hold it.
    policy = Policy(
        lanes=(
            LaneConfig(Lane.SECURITY, ("gpt-5.5-cyber",), "daybreak_red", Lane.GENERAL),
            LaneConfig(Lane.GENERAL, ("gpt-5.5",)),
        )
    )
    fake.script("gpt-5.5-cyber", "not_found")
    report = probe_cmd.probe(policy, {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.base_url})
    text = probe_cmd.render_text(policy, report)
    assert "gpt-5.5-cyber  not found (404) — did you mean gpt-5.5-cyber-preview?" in text
    assert "FELL BACK" in text and probe_cmd.exit_code(report) == 0


@pytest.mark.parametrize("behaviour", ["bad_key", "quota"])
def test_bad_key_or_quota_exits_4(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], behaviour: str
) -> None:
    fake.script(None, behaviour)
    assert main(["probe", "--policy", "policy.yml"]) == 4
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "hint: " in captured.err
    assert "Traceback" not in captured.err and KEY not in captured.err + captured.out


def test_no_key_exits_2_with_one_line_and_a_hint(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert main(["probe", "--policy", "policy.yml"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: no API key: nothing to probe" and err[1].startswith("hint: set OPENAI_API_KEY")
    assert fake.requests == []


def test_invalid_access_program_exits_2_and_explains(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.script("gpt-5.5-cyber-preview", "invalid_access_program")
    assert main(["probe", "--policy", "policy.yml"]) == 2
    assert "invalid_access_program" in capsys.readouterr().err


def test_unreachable_server_says_so(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["probe", "--policy", "policy.yml"]) == 2
    captured = capsys.readouterr()
    assert "unreachable (connection error)" in captured.out and "no model can serve" in captured.err


def test_a_lane_without_a_model_is_said_once_per_line(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["probe", "--policy", "policy.yml"]) == 2
    arrows = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("->")]
    assert len(arrows) == 2 and all(ln.startswith("  -> no model: gpt-") for ln in arrows), arrows
