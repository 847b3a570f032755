"""`reviewbot diff` with a key: probe, plan, review, fallback, budget — against the loopback fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.cli import main
from tests.fakes.openai_server import input_text, review_output, running_fake

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "vulnerable.diff"
TOKEN = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
KEY = "sk-proj-testkey-not-real-0000000000000000"


def reply_with_sqli(body: dict) -> str:
    text = input_text(body)
    if text == "ping":
        return "pong"
    data = json.loads(text)
    findings = []
    for hunk in data["hunks"]:
        if "name + \"'\"" in hunk["text"]:
            findings.append({
                "hunk_id": hunk["hunk_id"], "category": "sql-injection", "cwe": "CWE-89", "severity": "high",
                "confidence": "high", "title": "SQL built from user input @octocat <img src=x>",
                "explanation": "name flows into the query string", "source": "name", "sink": "conn.execute",
                "quote": "    query = \"SELECT id, name, email FROM users WHERE name = '\" + name + \"'\"",
                "fix": "use a parameterised query",
            })
    return review_output(body, findings)


@pytest.fixture
def fake(monkeypatch):
    with running_fake(reply=reply_with_sqli) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("REVIEWBOT_TOKENIZER", "conservative")
        yield server


def run_json(capsys, *extra):
    code = main(["diff", "--patch", str(EXAMPLE), "--format", "json", "--fail-on", "none", *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else None, err


def test_review_finds_sqli_on_the_right_line_and_never_sends_the_secret(fake, capsys, tmp_path):
    audit = tmp_path / "audit.jsonl"
    code, data, err = run_json(capsys, "--audit", str(audit))
    assert code == 0, err
    assert data["model_called"] is True
    sqli = [f for f in data["findings"] if f["rule"] == "sql-injection"]
    assert len(sqli) == 1
    assert sqli[0]["path"] == "app/auth/users.py" and sqli[0]["start_line"] == 12
    assert sqli[0]["source"].startswith("model:")
    assert data["coverage"]["hunks_reviewed"] == 2
    assert data["state"] == "complete"
    assert {lane["lane"]: lane["served_by"] for lane in data["lanes"]} == {
        "security": "gpt-5.5-cyber-preview", "general": "gpt-5.5"}
    # What reached the model: redacted, with the access program on security calls only.
    bodies = fake.bodies()
    sent = json.dumps(bodies)
    assert TOKEN not in sent and "[REDACTED:github-pat:" in sent
    security_calls = [b for b in bodies if b["model"] == "gpt-5.5-cyber-preview"]
    assert security_calls and all(b["access_programs"] == {"cyber": "daybreak_red"} for b in security_calls)
    assert all(b["store"] is False for b in bodies)
    assert not fake.schema_errors
    # The budget: what was charged never exceeds what the run was given.
    assert data["budget"]["tokens_used"] <= data["budget"]["budget_tokens"]
    text = audit.read_text()
    assert TOKEN not in text and KEY not in text
    assert main(["audit", "verify", str(audit)]) == 0


def test_denied_security_model_falls_back_loudly(fake, capsys):
    fake.script("gpt-5.5-cyber-preview", "deny")
    fake.script("gpt-5.6-cyber", "not_found")
    code, data, _ = run_json(capsys)
    assert code == 0
    sec = next(lane for lane in data["lanes"] if lane["lane"] == "security")
    assert sec["served_by"] == "gpt-5.5" and sec["fell_back"] is True
    assert data["coverage"]["fell_back"] >= 1
    assert any("fell back" in n for n in data["notes"])
    assert not any(b["model"] == "gpt-5.5-cyber-preview" and b["input"] != "ping" for b in fake.bodies())


def test_bad_key_exits_4(fake, capsys):
    fake.script(None, "bad_key")
    code = main(["diff", "--patch", str(EXAMPLE), "--format", "json"])
    _, err = capsys.readouterr()
    assert code == 4 and err.startswith("error:") and KEY not in err


def test_tiny_budget_sends_nothing_it_cannot_afford(fake, capsys):
    code, data, _ = run_json(capsys, "--budget-tokens", "200")
    assert code == 0
    assert data["budget"]["tokens_used"] <= 200
    assert data["coverage"]["hunks_reviewed"] == 0
    assert data["coverage"]["skipped_by_reason"].get("over-budget") == 2
    assert data["state"] == "partial"
    # Only probes could have been afforded, and no review call was made.
    assert all(input_text(b) == "ping" for b in fake.bodies())


def test_text_report_says_what_served_each_lane(fake, capsys):
    code = main(["diff", "--patch", str(EXAMPLE), "--fail-on", "none"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Lane security: served by gpt-5.5-cyber-preview" in out
    assert "2 reviewed by a model" in out
    assert "@octocat" in out or "octocat" in out  # model text is shown, as text


@pytest.mark.parametrize("behaviour", ["bad_key", "quota", "invalid_access_program"])
def test_a_run_stopped_by_the_probe_still_ends_its_audit_log(fake, capsys, tmp_path, behaviour):
    fake.script(None if behaviour != "invalid_access_program" else "gpt-5.5-cyber-preview", behaviour)
    audit = tmp_path / "audit.jsonl"
    code = main(["diff", "--patch", str(EXAMPLE), "--audit", str(audit), "--fail-on", "none"])
    capsys.readouterr()
    assert code == (2 if behaviour == "invalid_access_program" else 4)
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    assert events[-1]["event"] == "run_end" and events[-1]["state"] == "failed"
    assert events[-1]["coverage"]["skipped"].get("failed") == 2
    assert main(["audit", "verify", str(audit)]) == 0
    assert TOKEN not in audit.read_text() and KEY not in audit.read_text()
