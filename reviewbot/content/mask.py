"""Mask comments and string literals so that content rules match code, not prose.

One compiled regex per syntax finds comments and string literals in a whole side of a hunk
(the lines joined with ``\\n``) in a single pass; each is replaced by text with exactly the same
number of newlines, so line ``i`` of the masked text is line ``i`` of the input:

- a comment becomes nothing (its newlines kept);
- a string literal that holds prose or code (whitespace, parentheses, over 40 characters) keeps its prefix
  and quotes but loses its content: ``f"a {b}"`` reads ``f""``; one whose text starts with an SQL
  verb reads ``"SQL"``, so a rule can still see SQL built from strings (``execute("SQL" + x)``)
  without seeing the words of every message; one that starts with an HTML tag reads ``"HTML"``;
- a short literal without whitespace or parentheses is a key or a token, not prose or code, and
  stays as written:
  ``"__proto__"``, ``"Location"``, ``"\\r\\n"``, ``".."``;
- Python raw strings (``r"..."``) and JavaScript regex literals stay as written: they are regular
  expressions, which the ReDoS family reads.

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

_HTML_START = re.compile(r"\s*</?[A-Za-z!]")
_TOKEN = re.compile(r"[^\s()]{0,40}\Z")  # a literal's text that is a key or token, not prose
_DQ = r'"(?:[^"\\\n]|\\.)*"?'  # a double-quoted literal on one line (unterminated: to end of line)
_SQ = r"'(?:[^'\\\n]|\\.)*'?"
_BT = r"`(?:[^`\\]|\\.)*`?"  # backtick: JS template literal / Go raw string, may span lines
# A JavaScript regex literal: a '/' that cannot be division (not after a name, a number or a
# closing bracket). Kept as written, so the quotes and backticks inside it start no string.
_JS_REGEX = r"(?<![\w$)\]\s])\s*/(?![/*])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/[dgimsuyv]*"
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
    "js": "|".join(
        (
            "(?P<c>" + _BLOCK + "|" + _SLASH_LINE + ")",
            "(?P<k>" + _JS_REGEX + ")",
            "(?P<p>)(?P<s>" + _DQ + "|" + _SQ + "|" + _BT + ")",
        )
    ),
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
    if literal is None:  # a token kept as written (a regex literal)
        return match.group(0)
    prefix = match.group("p")
    if "r" in prefix.lower():  # a Python raw string: nearly always a regular expression, kept
        return match.group(0)
    quote = literal[:3] if literal[:3] in ('"""', "'''") else literal[0]
    inner = literal[len(quote) :]
    newlines = "\n" * literal.count("\n")
    closing = quote if literal.endswith(quote) and len(literal) >= 2 * len(quote) else ""
    if closing and _TOKEN.match(inner, 0, len(inner) - len(closing)):
        return match.group(0)
    marker = "SQL" if _SQL_START.match(inner) else "HTML" if _HTML_START.match(inner) else ""
    return prefix + quote + marker + newlines + closing


Masker = Callable[[str], str]


def _opener(syntax: str, text: str) -> str:
    """The opener of a docstring or block comment that ``text`` seems to start inside, or ""."""
    if syntax == "python":
        for quote in ('"""', "'''"):
            first = text.find(quote)
            if first >= 0 and text.count(quote) % 2 == 1 and text.rfind("#", 0, first) < 0:
                return quote
        return ""
    if syntax in ("c", "js", "go", "java", "php"):
        close = text.find("*/")
        if close >= 0 and not 0 <= text.find("/*") < close:
            return "/*"
    return ""


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
        # A hunk can start inside a docstring or a block comment: reopen it, mask, drop the opener.
        opener = _opener(syntax, text)
        if opener:
            return sub(_replace, opener + text)[len(opener) if opener != "/*" else 0 :]
        return sub(_replace, text)

    return mask


def mask_code(text: str, language: str | None) -> str:
    """``text`` with comments and string literals masked (same number of lines)."""
    return masker_for(language)(text)
