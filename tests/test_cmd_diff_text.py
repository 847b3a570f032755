"""`reviewbot diff --format text`: a rich table on a terminal, plain text when piped or with NO_COLOR."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reviewbot.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "vulnerable.diff"
ANSI = "\x1b["


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *, tty: bool) -> str:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    assert main(["diff", "--patch", str(EXAMPLE), "--fail-on", "none"]) == 0
    return capsys.readouterr().out


def test_a_terminal_gets_the_coloured_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = _run(capsys, monkeypatch, tty=True)
    assert ANSI in out and "security" in out
    assert "─" in out  # the table's rule under the header


@pytest.mark.parametrize("no_color", [None, "1"])
def test_a_pipe_or_no_color_gets_plain_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_color: str | None
) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
        out = _run(capsys, monkeypatch, tty=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
        out = _run(capsys, monkeypatch, tty=True)
    assert ANSI not in out and "─" not in out
    assert "app/auth/users.py" in out and "security" in out and "Coverage (partial)" in out


def test_output_file_is_always_plain(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    report = tmp_path / "report.txt"
    assert main(["diff", "--patch", str(EXAMPLE), "--fail-on", "none", "--output", str(report)]) == 0
    text = report.read_text()
    assert ANSI not in text and "app/auth/users.py" in text


ESC_PATCH = (
    'diff --git "a/x\\033[2J\\033]0;owned\\007.py" "b/x\\033[2J\\033]0;owned\\007.py"\n'
    '--- "a/x\\033[2J\\033]0;owned\\007.py"\n'
    '+++ "b/x\\033[2J\\033]0;owned\\007.py"\n'
    "@@ -1 +1 @@\n-a\n+b\n"
)


@pytest.mark.parametrize("tty", [False, True])
def test_control_characters_in_a_path_cannot_drive_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tty: bool
) -> None:
    # git quotes the name; the parser decodes \\033 to a real ESC, which must not reach the terminal raw.
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    patch = tmp_path / "esc.diff"
    patch.write_text(ESC_PATCH)
    assert main(["diff", "--patch", str(patch), "--fail-on", "none"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out
    assert "x\\x1b[2J\\x1b]0;owned\\x07.py" in out  # shown, escaped
