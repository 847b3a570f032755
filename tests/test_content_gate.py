"""The literal gate is an optimisation only: it never rules out a line a content regex matches."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.content.gate import build_gate, required_literals
from reviewbot.content.mask import mask_code
from tests.test_content_families import CASES, ROUTER


@pytest.mark.parametrize(
    ("regex", "needs"),
    [
        (r"\bsubprocess\.\w+\s*\(", {"subprocess."}),
        (r"(?<![\w.])(?:eval|exec)\s*\(", {"eval", "exec"}),  # through the parser's prefix factoring
        (r"(?i)\bpickle", {"pickle"}),
        (r"[\])][*+]", None),  # no literal: no gate, the full pattern always runs
        (r"a|bcd", None),  # one branch too short to gate on
        (r"(?:ab)?cde", {"cde"}),  # an optional group is not required
    ],
)
def test_required_literals(regex: str, needs: set[str] | None) -> None:
    found = required_literals(regex)
    assert (set(found) if found is not None else None) == needs


SHIPPED = sorted({regex for rule in ROUTER.policy.routes for regex in rule.content})
LINES = [c[1] for c in CASES] + [c[2] for c in CASES]


@pytest.mark.parametrize("regex", SHIPPED)
def test_gate_passes_every_shipped_line_its_regex_matches(regex: str) -> None:
    gate = build_gate([regex])
    for line in LINES:
        for language in ("python", "javascript", "c", None):
            text = mask_code(line, language)
            if re.search(regex, text, re.MULTILINE) and gate is not None:
                assert gate.search(text.lower()), (regex, text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzEVALXC .()_=[]", max_size=40))
def test_gate_never_rejects_a_match_on_random_text(text: str) -> None:
    for regex in (r"\beval\s*\(", r"(?<![\w.])(?:eval|exec)\s*\(", r"\b\w*(?:cookie|session)s?\b", r"(?i)x_?c"):
        gate = build_gate([regex])
        if re.search(regex, text):
            assert gate is None or gate.search(text.lower())
