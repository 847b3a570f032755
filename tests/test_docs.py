"""The README cannot drift from the command line (STYLE.md habit 10): every command and option it names exists."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from reviewbot.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_readme_command_table_lists_every_command_and_nothing_else() -> None:
    table = set(re.findall(r"^\| `reviewbot ([a-z]+)[^`]*` \|", README, re.M))
    assert table == set(_subparsers())


def test_readme_diff_usage_names_only_options_that_exist() -> None:
    usage = README.split("### `reviewbot diff`", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"--[a-z][a-z-]+", usage))
    real = {opt for a in _subparsers()["diff"]._actions for opt in a.option_strings if opt.startswith("--")}
    assert named and named <= real, named - real
    assert real - named <= {"--help", "--verbose"}, real - named  # every option is documented


def test_readme_points_to_the_action_docs_and_they_exist() -> None:
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (REPO / target).is_file(), target
    assert "docs/action.md" in README


def test_what_the_docs_say_the_audit_log_holds_is_what_it_holds() -> None:
    # Route events of content rules carry the matched line (tests/test_content_rules.py): the
    # docs must not promise "no diff text" without saying so.
    for path in (REPO / "README.md", REPO / "docs" / "action.md"):
        text = " ".join(path.read_text(encoding="utf-8").split())
        for promise in ("no diff text.", "never diff text"):
            assert promise not in text, f"{path.name} says {promise!r}"
        assert "line that" in text and "content rule" in text, path.name
