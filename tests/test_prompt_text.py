"""``hunk_text`` (what the planner estimates) is exactly the text ``prepare_hunk`` renders."""

from __future__ import annotations

import pytest

from reviewbot.diff import parse_diff
from reviewbot.lanes.prompt import hunk_text, prepare_hunk
from reviewbot.models import DiffLine, FileStatus, Hunk, Lane, RedactedText
from reviewbot.redact import Redactor
from tests.secret_corpus import as_added_diff, planted_secrets

_DIFF = """\
diff --git a/src/a.py b/src/a.py
--- a/src/a.py
+++ b/src/a.py
@@ -8,5 +8,6 @@ def f():
 context
-old = 1
+new = 2
+
 -- not a marker
 \tindented
 end
@@ -98,2 +99,2 @@
 x
-y
+z
"""


def _hunks() -> list[Hunk]:
    planted = "".join(as_added_diff(f"src/s{i}.py", p.context_text) for i, p in enumerate(planted_secrets(seed=3)))
    return list(parse_diff(_DIFF + planted).hunks)


@pytest.mark.parametrize("extra", [(), (("eats-marker", r"(?m)^\+ne"),), (("whole-line", r"(?m)^.*$"),)])
def test_same_text_as_prepare_hunk(extra: tuple[tuple[str, str], ...]) -> None:
    redactor = Redactor(extra_patterns=extra)
    hunks = _hunks()
    assert len(hunks) > 20
    for hunk in hunks:
        body = redactor.redact(hunk.body()).text
        expected = prepare_hunk(hunk, Lane.SECURITY, path=RedactedText(hunk.path), body=body).text()
        assert hunk_text(hunk, body) == expected


def test_odd_lines_take_the_general_path() -> None:
    lines = (
        DiffLine("+", "a", None, 9),
        DiffLine("-", "b", 3, None),
        DiffLine(" ", "c", 4, 10),
        DiffLine("", "d", 5, 11),
    )
    hunk = Hunk("h1", "p", None, FileStatus.MODIFIED, 3, 3, 9, 3, "", lines, frozenset(), None)
    for body in ("+a\n-b\n c\n d\n", "+a\n-b\n c\n", "a\nb\nc\nd", "+a\n-b\n c\n d\nextra\n"):
        red = RedactedText(body)
        assert hunk_text(hunk, red) == prepare_hunk(hunk, Lane.GENERAL, path=RedactedText("p"), body=red).text()
    odd_numbers = (DiffLine("+", "a", None, 9), DiffLine("-", "b", 3, None), DiffLine(" ", "c", 4, -100))
    hunk = Hunk("h2", "p", None, FileStatus.MODIFIED, 3, 2, 9, 2, "", odd_numbers, frozenset(), None)
    red = RedactedText("+a\n-b\n c\n")
    assert hunk_text(hunk, red) == prepare_hunk(hunk, Lane.GENERAL, path=RedactedText("p"), body=red).text()
