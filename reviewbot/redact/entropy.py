"""Gates for values that only look like secrets: entropy, placeholders, references, stopwords."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

# A generic assignment's value must carry at least this many bits per character.
ENTROPY_THRESHOLD = 3.0
MIN_GENERIC_LENGTH = 8

# Values (lower-cased) containing one of these are placeholders or documentation, not secrets.
STOPWORDS = (
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "sample",
    "redacted",
    "xxxx",
    "****",
    "....",
    "your_",
    "your-",
    "yourapi",
    "<your",
    "_here",
    "-here",
    "insert",
    "replace",
    "todo",
    "fixme",
    "notasecret",
    "not-a-secret",
    "not_a_secret",
    "fake",
    "foobar",
    "secret123",
    "password123",
    "[redacted:",
)

# Documented example credentials (AWS's own documentation keys).
DOCUMENTED_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)

# A value that refers to a secret held elsewhere: ${VAR}, $VAR, ${{ secrets.X }}, {{ x }},
# %(x)s, <your-token>, os.environ[...], process.env.X, getenv(...), vault:..., env(...)
_REFERENCE = re.compile(
    r"""^(?:
        \$\{\{.*\}\}? | \$\{[^}]*\}? | \$\(.*\)? | \$[A-Za-z_][A-Za-z0-9_]* | \{\{.*\}\}? | \{[A-Za-z_][\w.]*\}
      | %\(\w+\)s | %[sd] | <[^>]*>? | \[[^\]]*\]?
      | (?:os\.)?environ\b.* | (?:os\.)?getenv\b.* | process\.env\b.* | env\(.* | ENV\[.*
      | (?:self|this|config|settings|cfg|conf|args|options|opts|params|request|req|secrets?|vars?)\.[\w.\[\]'"]+
      | vault:.* | ref\+.* | arn:aws:.* | file:.* | (?:true|false|null|none|nil|undefined)
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
_IDENTIFIER = re.compile(
    r"[a-z_][a-z0-9_]*|[A-Z_][A-Z0-9_]*"  # snake_case, CONSTANT
    r"|[a-z]{2,}(?:[A-Z][a-z0-9]{2,})+|(?:[A-Z][a-z0-9]{2,}){2,}"  # camelCase, PascalCase
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?"  # settings.SECRET_KEY
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")
_REPEATED = re.compile(r"(.)\1{4,}")

# Key names that contain a secret word but hold something else (``token_url``, ``secret_name``).
_NON_SECRET_KEY_SUFFIX = re.compile(
    r"(?:_|-|\.|\b)(?:name|names|type|types|file|files|path|paths|dir|url|uri|endpoint|env|var|field|header"
    r"|length|len|size|prefix|suffix|format|ttl|expiry|expires|expires_at|id|ids|count|kind|hint|label"
    r"|policy|pattern|regex|hash|algorithm|alg|version|mode|class|mask)$",
    re.IGNORECASE,
)
_NON_SECRET_KEY = re.compile(r"(?i)(?:tokeni[sz]er|tokens?_?count|max_?tokens?|num_?tokens|keyboard|keyword|^keys?$)")


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (0.0 for the empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def is_placeholder(value: str) -> bool:
    """True for documented examples, obvious placeholders and references to a secret held elsewhere."""
    stripped = value.strip()
    if stripped in DOCUMENTED_EXAMPLES or "EXAMPLE" in stripped:
        return True
    lowered = stripped.lower()
    if any(word in lowered for word in STOPWORDS):
        return True
    if _REFERENCE.match(stripped):
        return True
    return bool(_REPEATED.search(stripped)) and len(set(stripped)) <= 3


@functools.lru_cache(maxsize=4096)
def key_may_hold_secret(key: str) -> bool:
    """Whether an assignment to ``key`` (a secret-sounding name) may hold a secret: not ``token_url``."""
    snake = _CAMEL_HUMP.sub(r"_\1", key)  # secretName -> secret_Name
    return not (_NON_SECRET_KEY_SUFFIX.search(snake) or _NON_SECRET_KEY.search(snake))


def value_is_secret(value: str) -> bool:
    """Whether a value assigned to a secret-sounding name looks like a real secret."""
    value = value.strip()
    if len(value) < MIN_GENERIC_LENGTH or is_placeholder(value):
        return False
    if "://" in value or value.startswith(("/", "./", "../", "~/")):
        return False  # a URL (its credentials are another rule's) or a path
    if _IDENTIFIER.fullmatch(value):
        return False  # a name: settings.SECRET_KEY, DB_PASSWORD, get_token
    if " " in value and len(value.split()) > 2:
        return False  # prose, not a credential
    return shannon_entropy(value) >= ENTROPY_THRESHOLD


def is_generic_secret(key: str, value: str) -> bool:
    """Whether ``key = value`` (a secret-sounding name) really assigns a secret."""
    return key_may_hold_secret(key) and value_is_secret(value)
