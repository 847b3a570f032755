"""Property tests: redaction never changes the line count and never leaves a secret's tail behind."""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewbot.redact import Redactor
from reviewbot.redact.entropy import is_generic_secret, is_placeholder
from tests.secret_corpus import GENERATORS, MULTILINE_KINDS, PII_KINDS, occurrence

# Surroundings a secret can sit in: any text, but a separator right next to the value
# (a token glued to more token characters is a different, longer string).
FILLER = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=80,
)
SEPARATORS = st.sampled_from([" ", "\n", '"', "'", "=", ": ", "\t", "(", ",", "\n+"])
KINDS = sorted(set(GENERATORS) - set(PII_KINDS) - {"generic-secret"})

FILLER_RUN = re.compile(r"(.)\1{5,}")

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.text(max_size=400))
def test_line_count_never_changes(text: str) -> None:
    assert Redactor().scrub(text).count("\n") == text.count("\n")


@SETTINGS
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4), st.randoms(use_true_random=False), FILLER, FILLER)
def test_line_count_never_changes_with_secrets(kinds: list[str], rng: random.Random, left: str, right: str) -> None:
    text = left + " " + "\n".join(GENERATORS[k](rng) for k in kinds) + "\n" + right
    assert Redactor().scrub(text).count("\n") == text.count("\n")


def _tails(value: str) -> list[str]:
    """The secret's fragments whose tails must not survive (a key's body lines, else the value)."""
    if "-----BEGIN" not in value:
        return [value]
    return [ln for ln in value.replace("\\n", "\n").splitlines() if ln and not ln.startswith("-----")]


@SETTINGS
@given(st.sampled_from(KINDS), st.randoms(use_true_random=False), FILLER, SEPARATORS, SEPARATORS, FILLER)
def test_no_suffix_longer_than_4_characters_survives(
    kind: str, rng: random.Random, left: str, sep_left: str, sep_right: str, right: str
) -> None:
    value, snippet = occurrence(kind, rng)
    # Documented rule: a token holding a run of 6 identical characters is filler (ghp_xxxxxx...).
    assume(kind in MULTILINE_KINDS or not FILLER_RUN.search(value))
    if kind == "url-credentials":
        assume(not is_placeholder(value))
    out = Redactor().scrub(left + sep_left + snippet + sep_right + right)
    for fragment in _tails(value):
        for size in range(5, len(fragment) + 1):
            assume(fragment[-size:] not in left + right)  # the filler itself may hold it by chance
            assert fragment[-size:] not in out, (kind, size)
            break  # the shortest forbidden tail (5 chars) implies the longer ones


@SETTINGS
@given(st.randoms(use_true_random=False), FILLER)
def test_generic_assignments_leave_no_tail(rng: random.Random, right: str) -> None:
    value = GENERATORS["generic-secret"](rng)
    name = rng.choice(["password", "api_key", "client_secret", "token", "passwd", "SECRET"])
    assume(is_generic_secret(name, value))  # whatever passes the entropy gate is masked whole
    assume(value[-5:] not in right)
    out = Redactor().scrub(f'{name} = "{value}"\n{right}')
    assert value[-5:] not in out
