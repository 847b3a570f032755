"""`reviewbot redact`: masked text or JSON spans (never values); exit 1 when found, 0 clean, 2 unreadable."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from reviewbot.cli import main
from tests.secret_corpus import as_added_diff, planted_secrets

GH = "ghp_aBcdEfGhIjKlMnOpQrStUvWxYz0123456789"


def test_text_output_masks_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "settings.py"
    src.write_text(f'TOKEN = "{GH}"\nmail = "jane.doe@corp-mail.io"\n')
    assert main(["redact", str(src)]) == 1
    out = capsys.readouterr().out
    assert out == 'TOKEN = "[REDACTED:github-pat:1]"\nmail = "[REDACTED:email:1]"\n'


def test_clean_input_exits_0_and_is_printed_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "clean.py"
    src.write_text("def f():\n    return 1\n")
    assert main(["redact", str(src)]) == 0
    assert capsys.readouterr().out == "def f():\n    return 1\n"


def test_json_lists_spans_sorted_without_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [p for p in planted_secrets(seed=9) if p.context == "env"]
    src = tmp_path / "all.env"
    src.write_text("".join(p.context_text for p in items))
    assert main(["redact", "--format", "json", str(src)]) == 1
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data == sorted(data, key=lambda d: (d["line"], d["start_col"], d["kind"]))
    assert all(set(d) == {"kind", "line", "start_col", "end_col", "placeholder"} for d in data)
    assert {p.kind for p in items} <= {d["kind"] for d in data}
    for p in items:
        assert all(frag[-5:] not in out for frag in p.fragments), p.label


def test_no_pii_leaves_personal_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "people.txt"
    src.write_text("mail jane.doe@corp-mail.io\n")
    assert main(["redact", "--no-pii", str(src)]) == 0
    assert capsys.readouterr().out == "mail jane.doe@corp-mail.io\n"


def test_stdin_and_a_diff(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (item,) = [p for p in planted_secrets(seed=3) if p.kind == "private-key" and p.context == "python"]
    patch = as_added_diff("key.py", item.context_text)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(patch.encode())))
    assert main(["redact", "-"]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == patch.count("\n")
    assert "+[REDACTED:private-key:1]" in out
    assert all(frag not in out for frag in item.fragments)


def test_unreadable_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redact", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read")
    assert "Traceback" not in err
    assert main(["redact", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_invalid_utf8_is_read_with_replacement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bin.txt"
    src.write_bytes(b"\xff\xfe token " + GH.encode() + b"\n")
    assert main(["redact", str(src)]) == 1
    assert GH not in capsys.readouterr().out
