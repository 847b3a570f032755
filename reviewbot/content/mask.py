"""Mask comments and string literals so that content rules match code, not prose.

One compiled regex per syntax finds comments and string literals in a whole side of a hunk
(the lines joined with ``\\n``) in a single pass; each is replaced by text with exactly the same
number of newlines, so line ``i`` of the masked text is line ``i`` of the input:

- a comment becomes nothing (its newlines kept);
- a string literal keeps its prefix and quotes but loses its content: ``f"a {b}"`` reads ``f""``;
  a literal whose text starts with an SQL verb reads ``"SQL"``, so a rule can still see SQL built
  from strings (``execute("SQL" + x)``) without seeing the words of every message.

It is cheap and deliberately approximate (a hunk can start inside a block comment; JavaScript
regex literals stay code, which the ReDoS family wants). Unknown languages are not masked.
Shell keeps double-quoted strings, which hold code (``"$(cmd)"``); only its comments go.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SQL_START = re.compile(
    r"\s*(?:SELECT|INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT|CREATE|DROP|ALTER|TRUNCATE|GRANT|EXEC|"
    r"WITH\s+\w+\s+AS|ORDER\s+BY|WHERE|FROM|VALUES|SET)\b",
    re.IGNORECASE,
)

_DQ = r'"(?:[^"\\\n]|\\.)*"?'  # a double-quoted literal on one line (unterminated: to end of line)
_SQ = r"'(?:[^'\\\n]|\\.)*'?"
_BT = r"`(?:[^`\\]|\\.)*`?"  # backtick: JS template literal / Go raw string, may span lines
_BLOCK = r"/\*.*?(?:\*/|\Z)"
_SLASH_LINE = r"//[^\n]*"
_HASH_LINE = r"#[^\n]*"

_SYNTAX: dict[str, str] = {
    "python": "|".join(
        (
            r"(?P<c>" + _HASH_LINE + ")",
            r"(?P<p>[rRbBuUfF]{0,2})(?P<s>'''.*?(?:'''|\Z)|\"\"\".*?(?:\"\"\"|\Z)|" + _DQ + "|" + _SQ + ")",
        )
    ),
    "c": "|".join(("(?P<c>" + _BLOCK + "|" + _SLASH_LINE + ")", "(?P<p>(?:u8|[uUL])?)(?P<s>" + _DQ + "|" + _SQ + ")")),
    "js": "|".join(("(?P<c>" + _BLOCK + "|" + _SLASH_LINE + ")", "(?P<p>)(?P<s>" + _DQ + "|" + _SQ + "|" + _BT + ")")),
    "go": "|".join(("(?P<c>" + _BLOCK + "|" + _SLASH_LINE + ")", "(?P<p>)(?P<s>" + _DQ + "|" + _SQ + "|" + _BT + ")")),
    "java": "|".join(
        ("(?P<c>" + _BLOCK + "|" + _SLASH_LINE + ")", '(?P<p>)(?P<s>""".*?(?:"""|\\Z)|' + _DQ + "|" + _SQ + ")")
    ),
    "ruby": "|".join(("(?P<c>" + r"(?<![\w$?])#(?!\{)[^\n]*" + ")", "(?P<p>)(?P<s>" + _DQ + "|" + _SQ + ")")),
    "php": "|".join(
        ("(?P<c>" + _BLOCK + "|" + _SLASH_LINE + "|" + r"#(?!\[)[^\n]*" + ")", "(?P<p>)(?P<s>" + _DQ + "|" + _SQ + ")")
    ),
    "shell": "|".join(("(?P<c>" + r"(?<![^\s;|&(])#[^\n]*" + ")", "(?P<p>)(?P<s>" + _SQ + ")")),
}

# Language names of reviewbot.diff.guess_language -> syntax.
_LANGUAGE_SYNTAX = {
    "python": "python",
    "c": "c",
    "cpp": "c",
    "objective-c": "c",
    "csharp": "java",
    "java": "java",
    "kotlin": "java",
    "scala": "java",
    "groovy": "java",
    "swift": "java",
    "rust": "c",
    "javascript": "js",
    "typescript": "js",
    "vue": "js",
    "svelte": "js",
    "go": "go",
    "ruby": "ruby",
    "php": "php",
    "shell": "shell",
    "perl": "shell",
}

_COMPILED = {name: re.compile(pattern, re.DOTALL) for name, pattern in _SYNTAX.items()}
# Characters without which a syntax has nothing to mask: lets most lines skip the regex.
_TRIGGERS = {
    "python": ("#", "'", '"'),
    "c": ("/", "'", '"'),
    "js": ("/", "'", '"', "`"),
    "go": ("/", "'", '"', "`"),
    "java": ("/", "'", '"'),
    "ruby": ("#", "'", '"'),
    "php": ("/", "#", "'", '"'),
    "shell": ("#", "'"),
}


def _replace(match: re.Match[str]) -> str:
    comment = match.group("c")
    if comment is not None:
        return "\n" * comment.count("\n")
    literal = match.group("s")
    quote = literal[:3] if literal[:3] in ('"""', "'''") else literal[0]
    inner = literal[len(quote) :]
    newlines = "\n" * literal.count("\n")
    marker = "SQL" if _SQL_START.match(inner) else ""
    closing = quote if literal.endswith(quote) and len(literal) >= 2 * len(quote) else ""
    return match.group("p") + quote + marker + newlines + closing


Masker = Callable[[str], str]


def _identity(text: str) -> str:
    return text


def masker_for(language: str | None) -> Masker:
    """The masking function of ``language`` (a name from ``guess_language``); identity when unknown."""
    syntax = _LANGUAGE_SYNTAX.get(language or "")
    if syntax is None:
        return _identity
    pattern, triggers = _COMPILED[syntax], _TRIGGERS[syntax]
    sub = pattern.sub

    def mask(text: str) -> str:
        if not any(t in text for t in triggers):
            return text
        return sub(_replace, text)

    return mask


def mask_code(text: str, language: str | None) -> str:
    """``text`` with comments and string literals masked (same number of lines)."""
    return masker_for(language)(text)
