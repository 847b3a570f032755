"""The conservative estimate never undercounts exact o200k counts on real code.

The oracle is tiktoken itself, with the o200k_base ranks read from the quicktok-v1
wheel's data file and accepted only when they hash to the value tiktoken pins: exact
counts, offline, with no code of the wheel executed.
"""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest

from reviewbot import tokens


@pytest.fixture(scope="module")
def exact_count():
    encoding = tokens._from_quicktok()
    if encoding is None:
        pytest.skip("quicktok-v1 (test extra) not installed: no offline o200k oracle")
    return lambda text: len(encoding.encode_ordinary(text))


def _code_chunks(limit_files: int = 400) -> list[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("*/*.py"))
    random.Random(3).shuffle(files)
    files += sorted((Path(__file__).resolve().parents[1] / "reviewbot").rglob("*.py"))
    chunks = []
    for f in files[:limit_files]:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        for i in range(0, len(lines), 40):
            chunk = "".join(lines[i : i + 40])
            if chunk.strip():
                chunks.append(chunk)
    return chunks


def test_oracle_is_real_o200k(exact_count):
    # Known o200k facts: a 3-digit group is one token; "hello world" is two.
    assert exact_count("hello world") == 2
    assert exact_count("123456") == 2


def test_conservative_never_undercounts_real_code(exact_count):
    chunks = _code_chunks()
    assert len(chunks) > 2000
    worst = max(exact_count(c) / tokens.conservative_count(c) for c in chunks)
    assert worst <= 1.0, f"conservative estimate undercounted: exact/estimate = {worst:.3f}"


@pytest.mark.parametrize(
    "text",
    [
        "    2,\n    6,\n    13,\n" * 20,  # indentation before digits splits in two
        "0xA4D00000A4FE,\n" * 20,
        "naïve café ünïcödé 日本語のテキスト 🙂\n" * 10,
        "x" * 500,
        "a = b + c; // ===> !== <<= >>= **\n" * 10,
        "QmFzZTY0IGVuY29kZWQgYmxvYg==" * 10,
    ],
)
def test_conservative_bound_on_awkward_text(exact_count, text):
    assert tokens.conservative_count(text) >= exact_count(text)


def test_never_undercounts_bytes_bound_without_oracle():
    # Without any vocabulary: every token has at least one byte, so the estimate
    # must at least be positive and grow with the text.
    assert tokens.conservative_count("") == 0
    assert tokens.conservative_count("a") >= 1
    assert tokens.conservative_count("abc " * 100) > tokens.conservative_count("abc " * 10)


def test_offline_lookup_makes_no_download(monkeypatch, tmp_path):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty cache
    import tiktoken

    def boom(name):  # a download attempt would land here
        raise AssertionError("get_encoding must not be called offline without a cached file")

    monkeypatch.setattr(tiktoken, "get_encoding", boom)
    tokens.reset_cache()
    try:
        est = tokens.get_estimator(allow_download=False)
        assert est.name in {"o200k_base", "conservative"}  # quicktok data, or the bound
        assert est.count("def f():\n    return 1\n") > 0
    finally:
        tokens.reset_cache()


def test_forced_conservative(monkeypatch):
    monkeypatch.setenv("REVIEWBOT_TOKENIZER", "conservative")
    tokens.reset_cache()
    try:
        assert tokens.get_estimator().name == "conservative"
    finally:
        tokens.reset_cache()


def test_quicktok_ranks_rejected_when_tampered(monkeypatch, tmp_path):
    # A vocabulary that does not hash to tiktoken's pinned value is refused.
    pkg = tmp_path / "quicktok"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    import struct

    token = b"hi"
    vocab = struct.pack("<I", 1) + struct.pack("<H", 2) + token + struct.pack("<I", 0)
    (pkg / "data" / "o200k.vocab").write_bytes(vocab)
    import importlib.machinery

    spec = importlib.machinery.ModuleSpec("quicktok", None, is_package=True)
    spec.submodule_search_locations = [str(pkg)]
    monkeypatch.setattr(tokens.importlib.util, "find_spec", lambda name: spec)
    assert tokens.quicktok_ranks() is None
