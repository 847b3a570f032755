"""`reviewbot diff` end to end, in process: offline runs, reports, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reviewbot.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "vulnerable.diff"
TOKEN = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                        "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin"})


@pytest.fixture
def repo(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "app.py").write_text("def f():\n    return 1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "init")
    git(tmp_path, "checkout", "-qb", "feature")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_example_offline_shows_routing_plan_finding_and_coverage(capsys):
    code, out, err = run(capsys, "diff", "--patch", str(EXAMPLE))
    assert code == 1  # the hard-coded token is a high finding; default fail_on is high
    assert "app/auth/users.py" in out and "security" in out and "auth" in out
    assert "docs/admin.md" in out and "skip" in out
    assert "Budget plan" in out
    assert "secret/github-pat" in out
    assert "no model was called" in out
    assert "NOTHING WAS REVIEWED BY A MODEL" in out
    assert TOKEN not in out + err


def test_json_report_is_deterministic_and_versioned(capsys, tmp_path):
    outputs = []
    for name in ("a.json", "b.json"):
        code, _, _ = run(capsys, "diff", "--patch", str(EXAMPLE), "--format", "json", "--output",
                         str(tmp_path / name), "--fail-on", "none")
        assert code == 0
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])
    assert data["version"] == 1
    assert data["model_called"] is False
    cov = data["coverage"]
    assert cov["hunks_total"] == 3 and cov["hunks_reviewed"] == 0
    assert cov["skipped_by_reason"] == {"offline": 2, "skip-route": 1}
    lanes = {h["path"]: (h["lane"], h["rule"]) for h in data["hunks"]}
    assert lanes["app/auth/users.py"] == ("security", "auth")
    assert lanes["docs/admin.md"] == ("skip", "docs")
    assert TOKEN.encode() not in outputs[0]


def test_markdown_and_sarif_formats(capsys):
    code, out, _ = run(capsys, "diff", "--patch", str(EXAMPLE), "--format", "markdown", "--fail-on", "none")
    assert code == 0 and "github-pat" in out and TOKEN not in out
    code, out, _ = run(capsys, "diff", "--patch", str(EXAMPLE), "--format", "sarif", "--fail-on", "none")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_audit_file_verifies_and_holds_no_secret_or_diff_text(capsys, tmp_path):
    audit = tmp_path / "audit.jsonl"
    run(capsys, "diff", "--patch", str(EXAMPLE), "--audit", str(audit))
    text = audit.read_text()
    assert TOKEN not in text
    assert "SELECT id, name" not in text  # no diff text
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert events[0] == "run_start" and events[-1] == "run_end"
    assert events.count("route") == 3 and "plan" in events
    code, out, _ = run(capsys, "audit", "verify", str(audit))
    assert code == 0 and "intact" in out


def test_budget_override_makes_hunks_over_budget(capsys):
    _, out, _ = run(capsys, "diff", "--patch", str(EXAMPLE), "--format", "json", "--budget-tokens", "100",
                       "--fail-on", "none")
    data = json.loads(out)
    assert data["budget"]["budget_tokens"] == 100
    assert data["coverage"]["skipped_by_reason"].get("over-budget") == 2


def test_patch_from_stdin(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EXAMPLE.read_bytes())))
    code, out, _ = run(capsys, "diff", "--patch", "-", "--format", "json", "--fail-on", "none")
    assert code == 0 and json.loads(out)["coverage"]["hunks_total"] == 3


def test_git_branch_against_merge_base(repo, capsys):
    (repo / "auth").mkdir()
    (repo / "auth" / "login.py").write_text("def login(u, p):\n    return u == 'admin'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "login")
    code, out, _ = run(capsys, "diff", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [h["path"] for h in data["hunks"]] == ["auth/login.py"]
    assert data["hunks"][0]["lane"] == "security"


def test_staged(repo, capsys):
    (repo / "app.py").write_text("def f():\n    return 2\n")
    git(repo, "add", "app.py")
    code, out, _ = run(capsys, "diff", "--staged", "--format", "json")
    assert code == 0 and [h["path"] for h in json.loads(out)["hunks"]] == ["app.py"]


def test_empty_diff_is_not_an_error(repo, capsys):
    code, out, _ = run(capsys, "diff")
    assert code == 0
    assert "Nothing to review" in out


def test_dry_run_with_a_key_calls_no_model(capsys, monkeypatch):
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        code, out, _ = run(capsys, "diff", "--patch", str(EXAMPLE), "--dry-run", "--format", "json",
                           "--fail-on", "none")
    finally:
        server.shutdown()
    assert code == 0 and hits == []
    data = json.loads(out)
    assert data["coverage"]["skipped_by_reason"]["dry-run"] == 2
    assert data["plan"]["requests"]


# --- bad input: one line, exit 2 -------------------------------------------------------

def assert_one_line_error(code, err, needle):
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[0].startswith("error: ") and needle in lines[0], err
    assert "Traceback" not in err and len(lines) <= 2


def test_not_a_git_repo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "diff")
    assert_one_line_error(code, err, "not a git repository")


def test_unknown_base_ref(repo, capsys):
    code, _, err = run(capsys, "diff", "nope")
    assert_one_line_error(code, err, "nope")


def test_patch_that_is_not_a_diff(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some text\nwith lines\n")
    code, _, err = run(capsys, "diff", "--patch", str(bad))
    assert_one_line_error(code, err, "not a unified diff")


def test_truncated_hunk(tmp_path, capsys):
    bad = tmp_path / "t.diff"
    bad.write_text("--- a/x.py\n+++ b/x.py\n@@ -1,5 +1,6 @@\n a\n+b\n")
    code, _, err = run(capsys, "diff", "--patch", str(bad))
    assert_one_line_error(code, err, "truncated")


def test_missing_patch_file(tmp_path, capsys):
    code, _, err = run(capsys, "diff", "--patch", str(tmp_path / "missing.diff"))
    assert_one_line_error(code, err, "missing.diff")


def test_policy_with_tab_indentation(tmp_path, capsys):
    policy = tmp_path / "p.yml"
    policy.write_text("version: 1\nbudget:\n\ttokens_per_run: 10\n")
    code, _, err = run(capsys, "diff", "--patch", str(EXAMPLE), "--policy", str(policy))
    assert_one_line_error(code, err, "p.yml")


def test_route_naming_an_unknown_lane(tmp_path, capsys):
    policy = tmp_path / "p.yml"
    policy.write_text("version: 1\nroutes:\n  - {name: x, lane: turbo, paths: ['*.py']}\n")
    code, _, err = run(capsys, "diff", "--patch", str(EXAMPLE), "--policy", str(policy))
    assert_one_line_error(code, err, "turbo")
    assert "p.yml:3" in err


def test_negative_budget(capsys):
    code, _, err = run(capsys, "diff", "--patch", str(EXAMPLE), "--budget-tokens", "-5")
    assert_one_line_error(code, err, "-5")


def test_verbose_shows_traceback(tmp_path, capsys):
    code, _, err = run(capsys, "diff", "--patch", str(tmp_path / "missing.diff"), "--verbose")
    assert code == 2 and "Traceback" in err


@pytest.mark.parametrize("where", ["missing-dir/report.json", "."])
def test_an_unwritable_output_fails_before_any_model_call(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fakes.openai_server import running_fake

    monkeypatch.chdir(tmp_path)
    with running_fake(keys={"sk-test-output": "main"}) as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-output")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        code = main(["diff", "--patch", str(EXAMPLE), "--format", "json", "--output", where])
        assert fake.requests == []  # not even the probe: no token is spent on a report that is lost
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot write report to ") and "Traceback" not in err
