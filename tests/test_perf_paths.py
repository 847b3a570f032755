"""Fast paths taken for speed give exactly what the general code gives."""

from __future__ import annotations

import gc

import pytest

from reviewbot.diff import hunks as hunks_module
from reviewbot.diff import parse_diff
from reviewbot.gcpause import gc_paused, paused_gc
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
\\ No newline at end of file
diff --git a/b.txt b/b.txt
--- a/b.txt
+++ b/b.txt
@@ -1,3 +1,3 @@
 a

-b\r
+c
"""


def test_plain_hunk_fast_path_reads_what_the_general_loop_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _DIFF + "".join(as_added_diff(f"s{i}.py", p.context_text) for i, p in enumerate(planted_secrets(seed=5)))
    fast = parse_diff(text)
    monkeypatch.setattr(hunks_module, "_plain_hunk", lambda *args: None)
    slow = parse_diff(text)
    assert fast == slow
    assert len(fast.hunks) > 20


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    @paused_gc
    def boom() -> None:
        assert not gc.isenabled()
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        boom()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_policy_composes_the_same_with_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from reviewbot.policy import load as load_module
    from reviewbot.policy.load import default_policy_text, parse_policy

    fast = parse_policy(default_policy_text(), source="default")
    monkeypatch.setattr(load_module, "_FAST_LOADER", yaml.SafeLoader)
    assert parse_policy(default_policy_text(), source="default") == fast


def test_conservative_runs_count_like_the_regexes() -> None:
    import random

    from reviewbot import tokens

    rng = random.Random(0)
    alphabet = [chr(c) for c in range(128)]
    for _ in range(20000):
        pool = alphabet if rng.random() < 0.3 else " \t\n\r\x0b\x0c\x1c\x1fab(0123456789"
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
        expected = sum(len(rx.findall(text)) for rx in (tokens._SPACE, tokens._LONG_SPACE, tokens._DIGITS))
        assert tokens._runs(text) == expected, repr(text)


def test_conservative_letter_matches_like_the_regex() -> None:
    import random

    from reviewbot import tokens

    rng = random.Random(1)
    alphabet = [chr(c) for c in range(128)]
    for _ in range(20000):
        pool = alphabet if rng.random() < 0.3 else " \t\n\r(_.aAbBzZ09"
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
        matches = tokens._LETTERS.findall(text)
        assert tokens._letter_matches(text) == (len(matches), sum(map(len, matches))), repr(text)


def test_run_shape_finds_a_long_run_exactly_when_the_regexes_do() -> None:
    import random

    from reviewbot.redact import engine

    rng = random.Random(2)
    pool = list("aZ09_-.+/=~:% \n()é\u2028")
    for _ in range(20000):
        text = "".join(rng.choice(pool if rng.random() < 0.5 else "ab_ (") for _ in range(rng.randint(0, 60)))
        found = any(True for _ in engine._RUN.finditer(text)) or engine._RUN_AT_START.match(text) is not None
        assert found == (engine._LONG_RUN in text.translate(engine._RUN_SHAPE)), repr(text)
