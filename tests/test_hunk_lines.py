"""A parsed hunk keeps its text and makes line objects on demand: it must behave as the tuple it stands for."""

from __future__ import annotations

import dataclasses

import pytest

from reviewbot.diff import parse_diff
from reviewbot.lanes.prompt import hunk_text, prepare_hunk
from reviewbot.models import DiffLine, Hunk, HunkLines, Lane, RedactedText

PLAIN = (
    "--- a/app.py\n+++ b/app.py\n"
    "@@ -9,4 +9,5 @@ def f():\n"
    " ctx = 1\n"
    "-old = query(name)\n"
    "+new = query(name, safe=True)\n"
    "+more = 2\n"
    " mid = 3\n"
    " end = 4\n"
)
EXPECTED = (
    DiffLine(" ", "ctx = 1", 9, 9),
    DiffLine("-", "old = query(name)", 10, None),
    DiffLine("+", "new = query(name, safe=True)", None, 10),
    DiffLine("+", "more = 2", None, 11),
    DiffLine(" ", "mid = 3", 11, 12),
    DiffLine(" ", "end = 4", 12, 13),
)


def parsed() -> Hunk:
    (hunk,) = parse_diff(PLAIN).hunks
    return hunk


def test_a_plain_hunk_is_read_lazily_and_numbers_its_lines_as_the_header_says() -> None:
    hunk = parsed()
    assert type(hunk.lines) is HunkLines
    assert len(hunk.lines) == 6
    assert tuple(hunk.lines) == EXPECTED
    assert hunk.lines[2] == EXPECTED[2] and hunk.lines[-1] == EXPECTED[-1]
    assert hunk.lines[1:3] == EXPECTED[1:3]
    assert (hunk.added, hunk.removed) == (2, 1)
    assert hunk.rows() == [ln.kind + ln.text for ln in EXPECTED]


def test_it_equals_and_hashes_as_the_same_hunk_built_from_a_tuple() -> None:
    hunk = parsed()
    eager = dataclasses.replace(hunk, lines=EXPECTED)
    assert hunk == eager and eager == hunk
    assert hash(hunk) == hash(eager)
    assert hunk.body() == eager.body()
    assert (eager.added, eager.removed, eager.rows()) == (hunk.added, hunk.removed, hunk.rows())
    other = dataclasses.replace(hunk, lines=EXPECTED[:-1])
    assert hunk != other


def test_marker_counts_look_at_line_starts_only() -> None:
    # A "+" or "-" inside a line's text is not a marker.
    lines = HunkLines("+a + b\n- x -y\n c+-\n", 1, 1)
    assert (lines.markers("+"), lines.markers("-"), lines.markers(" ")) == (1, 1, 1)


@pytest.mark.parametrize("masked", [False, True])
def test_the_planner_text_is_the_text_the_model_lanes_send(masked: bool) -> None:
    # hunk_text reads the parser's text directly when nothing was masked; it must match the prompt lines.
    hunk = parsed()
    body = hunk.body().replace("name", "[REDACTED:x:1]") if masked else hunk.body()
    shown = prepare_hunk(hunk, Lane.SECURITY, path=RedactedText("app.py"), body=RedactedText(body)).text()
    assert hunk_text(hunk, RedactedText(body)) == shown
    assert shown.splitlines()[2] == "10 +new = query(" + ("[REDACTED:x:1]" if masked else "name") + ", safe=True)"


def test_a_hunk_of_deletions_only_has_no_numbers_in_its_column() -> None:
    (hunk,) = parse_diff("--- a/x.py\n+++ b/x.py\n@@ -3,2 +2,0 @@\n-a = 1\n-b = 2\n").hunks
    expected = prepare_hunk(hunk, Lane.GENERAL, path=RedactedText(""), body=RedactedText(hunk.body())).text()
    assert hunk_text(hunk, RedactedText(hunk.body())) == expected == "  -a = 1\n  -b = 2"
