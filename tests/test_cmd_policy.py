"""`reviewbot policy check [FILE]` and `reviewbot policy schema`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from reviewbot.cli import main
from reviewbot.policy import policy_schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SECURITY_PATHS", "MODEL_CYBER", "MODEL_GENERAL"):
        monkeypatch.delenv(name, raising=False)


def test_check_shipped_default_policy_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "policies" / "default.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert main(["policy", "check", str(path)]) == 0
    out = capsys.readouterr().out
    # The counts are the file's own, read independently of reviewbot's loader.
    assert out.startswith(
        f"ok: {path} is valid ({len(raw['routes'])} routes, {len(raw['exclude'])} exclude patterns"
    )
    assert out.count("\n") == 1


def test_check_without_file_uses_discovery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: <default> is valid")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "reviewbot.yml").write_text("version: 1\n")
    assert main(["policy", "check"]) == 0
    assert capsys.readouterr().out.startswith(
        "ok: .github/reviewbot.yml is valid (0 routes, 0 exclude patterns"
    )


def test_check_counts_security_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yml").write_text("version: 1\n")
    monkeypatch.setenv("SECURITY_PATHS", "core/**")
    assert main(["policy", "check", "p.yml"]) == 0
    assert "(1 routes, 1 from SECURITY_PATHS," in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "version: 1\nbudget:\n\ttokens_per_pr: 5\n",
            "error: p.yml:3: YAML syntax error: found character '\\t'",
        ),
        (
            "version: 1\nroutes:\n  - {name: a, lane: cyber, paths: [x]}\n",
            "error: p.yml:3: key 'routes[0].lane'",
        ),
        ("", "error: p.yml:1: the policy is empty"),
    ],
)
def test_check_bad_policy_exit_2_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, error: str
) -> None:
    (tmp_path / "p.yml").write_text(text)
    assert main(["policy", "check", "p.yml"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first, *rest = captured.err.splitlines()
    assert first.startswith(error), first
    assert all(line.startswith("hint: ") for line in rest)


def test_check_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", "nope.yml"]) == 2
    assert capsys.readouterr().err.startswith("error: nope.yml: cannot read the policy")


def test_schema_prints_sorted_indented_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0
    out = capsys.readouterr().out
    assert out == json.dumps(policy_schema(), sort_keys=True, indent=2) + "\n"
    jsonschema.Draft202012Validator.check_schema(json.loads(out))


def test_policy_without_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["policy"])
    except SystemExit as exc:  # argparse's exit, whether or not main() catches it
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    assert "error:" in capsys.readouterr().err


def test_check_notes_a_policy_without_security_routes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "budget-only.yml").write_text("version: 1\nbudget: {tokens_per_run: 5000}\n")
    assert main(["policy", "check", "budget-only.yml"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("ok: budget-only.yml is valid (0 routes")
    assert captured.err.startswith("note: no route sends anything to the security lane")
    assert main(["policy", "check", str(ROOT / "policies" / "default.yml")]) == 0
    assert capsys.readouterr().err == ""
