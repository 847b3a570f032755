"""Token estimates for the budget (DESIGN.md §4).

Exact counts come from ``tiktoken``'s ``o200k_base`` when its encoding can be loaded:
from tiktoken's cache (``TIKTOKEN_CACHE_DIR``), by a one-time download when the run is
allowed to use the network, or, offline, from the vocabulary shipped in the optional
``quicktok-v1`` wheel (``pip install 'reviewbot[exact-tokens]'``), which is accepted only
when its SHA-256 matches the hash tiktoken itself pins for ``o200k_base``.

Otherwise a conservative estimate is used. It never undercounts real o200k counts on
code: ``tests/test_tokens.py`` checks it against exact counts on thousands of chunks of
real source. It over-counts by about 2.3x, which wastes budget but never breaks it.
The encoding is looked up once per process; a failed load is remembered, so a missing
encoding never slows every call.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import re
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

# ASCII approximation of o200k's pre-tokeniser: words with one leading non-letter,
# digit groups of at most three, punctuation runs, whitespace.
_LETTERS = re.compile(r"[^\r\n A-Za-z0-9]?(?:[A-Z]*[a-z]+|[A-Z]+[a-z]*)")  # o200k splits at case changes
_DIGITS = re.compile(r"[0-9]{1,3}")
_PUNCT = re.compile(r" ?[^\sA-Za-z0-9]+[\r\n/]*")
_SPACE = re.compile(r"\s+")
_LONG_SPACE = re.compile(r"\s{2,}")  # may split in two: indentation, then the space before a digit
# Base64 and other random-looking runs tokenise at about one token per character.
_BLOB = re.compile(r"[A-Za-z0-9+/=]{12,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# ASCII text as " " (a character _SPACE matches), "0" (a digit) and "x" (any other): counting
# the matches of _SPACE, _LONG_SPACE and _DIGITS is then counting runs, with str.count.
_SHAPE = str.maketrans(
    {chr(c): " " if _SPACE.fullmatch(chr(c)) else "0" if _DIGITS.fullmatch(chr(c)) else "x" for c in range(128)}
)
_SAFETY = 1.05  # margin over the worst case measured on real code (tests/test_tokens.py)


def conservative_count(text: str) -> int:
    """An upper bound on the o200k token count of code, without the vocabulary."""
    if not text:
        return 0
    extra = 0
    if not text.isascii():
        # Every byte of a non-ASCII run may be its own token.
        extra = sum(len(m.encode("utf-8", "surrogatepass")) for m in _NON_ASCII.findall(text))
        text = _NON_ASCII.sub(" ", text)
    # Sums of ceil(len/3) and ceil(len/2), bounded above by the totals (fast, in C).
    words, letters = _letter_matches(text)
    count = (letters + 2 * words) // 3 + 1
    puncts = _PUNCT.findall(text)
    count += (sum(map(len, puncts)) + len(puncts)) // 2 + 1
    count += _runs(text)
    for blob in _BLOB.findall(text):
        if not blob.isalpha() and not blob.isdigit() and not blob.isupper() and not blob.islower():
            count += len(blob)  # mixed case and digits: counted again, at one per character
    return int((count + extra) * _SAFETY) + 1


# ASCII text as "U" (A-Z), "l" (a-z), "s" (a digit, space, CR or LF: what may not precede a word
# in _LETTERS) and "p" (any other character, which a word takes as its first character).
_LETTER_SHAPE = str.maketrans(
    {
        chr(c): "U" if chr(c).isupper() else "l" if chr(c).islower() else "s" if chr(c) in "0123456789 \r\n" else "p"
        for c in range(128)
    }
)


def _letter_matches(text: str) -> tuple[int, int]:
    """``(len(m), sum(map(len, m)))`` for ``m = _LETTERS.findall(text)``, ASCII ``text``.

    In a run of letters, ``[A-Z]*[a-z]+|[A-Z]+[a-z]*`` takes capitals then small letters, so a
    match ends exactly where a small letter is followed by a capital ("lU"), or at the run's
    end: a run gives one match plus one per "lU". The optional first character of a match is
    the character just before the run, when it is a "p" (a match ends on a letter, so no match
    has taken it).
    """
    shape = text.translate(_LETTER_SHAPE)
    letters = shape.count("U") + shape.count("l")
    prefixed = shape.count("pU") + shape.count("pl")
    runs = prefixed + shape.count("sU") + shape.count("sl") + (shape[:1] in ("U", "l"))
    return runs + shape.count("lU"), letters + prefixed


def _runs(text: str) -> int:
    """``len(_DIGITS.findall(text)) + len(_SPACE.findall(text)) + len(_LONG_SPACE.findall(text))``, ASCII ``text``.

    The space patterns take whole runs of whitespace (greedy; a run ends only at a non-space), so
    they count the runs, and the runs of two or more. _DIGITS takes each run of L digits in
    ceil(L / 3) pieces: floor(L / 3) times "000", plus one when L % 3 digits are left over.
    """
    shape = text.translate(_SHAPE)
    spaces = shape.count("x ") + shape.count("0 ") + (shape[:1] == " ")
    long_spaces = shape.count("x  ") + shape.count("0  ") + (shape[:2] == "  ")
    left = shape.replace("000", "")
    digits = shape.count("000") + left.count("x0") + left.count(" 0") + (left[:1] == "0")
    return spaces + long_spaces + digits


@dataclass(frozen=True)
class Estimator:
    """Counts tokens; ``name`` says how (``o200k_base`` or ``conservative``)."""

    name: str
    count: Callable[[str], int]

    @property
    def exact(self) -> bool:
        return self.name == "o200k_base"


CONSERVATIVE = Estimator("conservative", conservative_count)

_lock = threading.Lock()
_cache: dict[bool, Estimator] = {}


def _tiktoken_cache_path() -> Path | None:
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir == "":
        return None
    base = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "data-gym-cache"
    return base / hashlib.sha1(O200K_URL.encode()).hexdigest()  # noqa: S324 - tiktoken's cache key


def _from_tiktoken(allow_download: bool) -> Any | None:
    try:
        import tiktoken
    except ImportError:
        return None
    cached = _tiktoken_cache_path()
    if not allow_download and (cached is None or not cached.is_file()):
        return None
    try:
        return tiktoken.get_encoding("o200k_base")
    except Exception:
        return None


def quicktok_ranks() -> dict[bytes, int] | None:
    """o200k ranks from the quicktok-v1 wheel's data file, if installed and genuine."""
    spec = importlib.util.find_spec("quicktok")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    vocab = Path(next(iter(spec.submodule_search_locations))) / "data" / "o200k.vocab"
    try:
        data = vocab.read_bytes()
        (n,) = struct.unpack_from("<I", data, 0)
        offset = 4
        ranks: dict[bytes, int] = {}
        lines = []
        for _ in range(n):
            (length,) = struct.unpack_from("<H", data, offset)
            offset += 2
            token = data[offset : offset + length]
            offset += length
            (rank,) = struct.unpack_from("<I", data, offset)
            offset += 4
            ranks[token] = rank
            lines.append(base64.b64encode(token) + b" " + str(rank).encode())
    except (OSError, struct.error):
        return None
    # Accept it only if it is byte for byte the file tiktoken pins by hash.
    if hashlib.sha256(b"\n".join(lines) + b"\n").hexdigest() != O200K_SHA256:
        return None
    return ranks


def _from_quicktok() -> Any | None:
    ranks = quicktok_ranks()
    if ranks is None:
        return None
    try:
        import tiktoken
        from tiktoken_ext import openai_public
    except ImportError:
        return None
    original = openai_public.load_tiktoken_bpe
    try:
        openai_public.load_tiktoken_bpe = lambda *a, **k: ranks
        spec = openai_public.o200k_base()
    finally:
        openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(
        name="o200k_base",
        pat_str=spec["pat_str"],
        mergeable_ranks=ranks,
        special_tokens=spec["special_tokens"],
    )


def get_estimator(*, allow_download: bool = False) -> Estimator:
    """The best estimator available; looked up once per process and setting."""
    with _lock:
        if allow_download in _cache:
            return _cache[allow_download]
        if os.environ.get("REVIEWBOT_TOKENIZER") == "conservative":
            estimator = CONSERVATIVE
        else:
            encoding = _from_tiktoken(allow_download) or _from_quicktok()
            if encoding is None:
                estimator = CONSERVATIVE
            else:
                encode = encoding.encode_ordinary
                estimator = Estimator("o200k_base", lambda text: len(encode(text)))
        _cache[allow_download] = estimator
        return estimator


def reset_cache() -> None:
    """For tests."""
    with _lock:
        _cache.clear()
