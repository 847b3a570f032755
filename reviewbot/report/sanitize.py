"""Untrusted text made safe to show (DESIGN.md §6).

Everything a model or a pull request wrote is untrusted. We build markdown
ourselves; untrusted text only ever lands in it as *escaped text*, never as
markup. The helpers here are total functions: any input gives safe output.

What the escaping guarantees (property-tested):

* no ``@user`` mention and no ``#123`` / ``GH-123`` / ``owner/repo#1``
  reference survives: a zero-width space (written as the entity ``&#8203;``)
  is put after every ``@`` and ``#`` and inside ``GH-``;
* no HTML: ``<``, ``>`` and ``&`` become entities, so no tag, image or HTML
  comment (and so no forged hidden marker) can be formed;
* no markdown link or image: every markdown punctuation character is
  backslash-escaped, so ``](`` never appears;
* bare autolinks to hosts other than the repository's GitHub host are
  replaced by ``(link removed: host)`` with the host defanged;
* hidden carriers (zero-width, bidi controls, Unicode tag characters) are
  removed; lengths are capped.

Code goes through :func:`fence` / :func:`code_span`, whose delimiters are longer
than any backtick run in the content, so the content cannot close them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Zero-width and invisible formatting characters, bidi controls and embeddings,
# Unicode tag characters, variation selectors, the BOM and the soft hyphen.
_HIDDEN = re.compile(
    "["
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"  # arabic letter mark
    "\u115f\u1160\u3164\uffa0"  # hangul fillers
    "\u17b4\u17b5"
    "\u180b-\u180f"  # mongolian selectors / vowel separator
    "\u200b-\u200f"  # zero-width space/non-joiner/joiner, LRM, RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\ufe00-\ufe0f"  # variation selectors
    "\ufeff"  # BOM / zero-width no-break space
    "\ufff9-\ufffb"  # interlinear annotations
    "\U000e0000-\U000e007f"  # tag characters
    "\U000e0100-\U000e01ef"  # variation selectors supplement
    "]"
)
# Other C0/C1 controls except tab and newline.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)

ZWSP = "&#8203;"  # a zero-width space, as an entity (the raw character is a hidden carrier we strip)
_PH = "\ue000"  # placeholder for ZWSP while escaping (private use; removed from input first)
ELLIPSIS = "…"
DEFAULT_MAX_CHARS = 4000

# Markdown punctuation that can start or end markup. `<`, `>` and `&` become entities instead.
_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~=^$:")
_URL = re.compile(
    r"(?i)\b((?:https?|ftp|file|mailto|data|javascript|vbscript)[:]\S*|www\.\S+)"
)
_HOST = re.compile(r"(?i)^(?:[a-z][a-z0-9+.-]*:(?://)?)?(?:[^/@\s?#]*@)?([^/:?#\s]*)")


def strip_hidden(text: str) -> str:
    """Remove hidden carriers (zero-width, bidi, tag characters, stray controls); normalise newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HIDDEN.sub("", text)
    return _CONTROLS.sub("", text)


def clean_prompt_text(text: str, *, max_chars: int = 20_000) -> str:
    """For untrusted text going into a prompt (PR title and body): drop HTML comments and hidden carriers.

    The result is still untrusted data: the prompt builder must put it in a JSON
    string or a fence from :func:`fence`, after instructions that say it is data.
    """
    text = _HTML_COMMENT.sub("", strip_hidden(text))
    return cap(text, max_chars)


def cap(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` characters, marking the cut with an ellipsis."""
    if max_chars <= 0:
        return ""
    if len(text) <= max_chars:
        return text
    return text[: max_chars - 1] + ELLIPSIS


def _host_of(url: str) -> str:
    m = _HOST.match(url)
    host = (m.group(1) if m else "").lower().rstrip(".")
    return host


def url_hosts(text: str) -> frozenset[str]:
    """The hosts of every URL :func:`escape_text` would treat as a link (lower case)."""
    hosts = set()
    for m in _URL.finditer(text):
        url = m.group(1)
        hosts.add(_host_of("http://" + url) if url.lower().startswith("www.") else _host_of(url))
    return frozenset(hosts)


def _defang(host: str) -> str:
    return host.replace(".", "[.]") if host else "unknown host"


def _replace_links(text: str, allowed_hosts: frozenset[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        url = m.group(1)
        host = _host_of("http://" + url) if url.lower().startswith("www.") else _host_of(url)
        scheme_ok = url.lower().startswith(("http://", "https://", "www."))
        if scheme_ok and host in allowed_hosts:
            return url
        return f"(link removed: {_defang(host)})"

    return _URL.sub(repl, text)


def _escape_char(ch: str) -> str:
    if ch == "<":
        return "&lt;"
    if ch == ">":
        return "&gt;"
    if ch == "&":
        return "&amp;"
    if ch == "@":
        return "@" + _PH
    if ch == "#":
        return "\\#" + _PH
    if ch in _MD_SPECIAL:
        return "\\" + ch
    return ch


_GH_REF = re.compile(r"(?i)(GH)(-\d)")


def escape_text(
    text: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    allowed_hosts: Iterable[str] = ("github.com",),
    single_line: bool = False,
) -> str:
    """Untrusted text to markdown that renders as exactly that text, inertly.

    ``allowed_hosts``: hosts whose bare URLs may stay (the repo's GitHub host);
    any other URL is replaced by ``(link removed: host)``. ``single_line``
    folds newlines to spaces (headings, list items, table cells).
    """
    text = cap(strip_hidden(text).replace(_PH, ""), max_chars)
    if single_line:
        text = " ".join(text.split())
    text = _replace_links(text, frozenset(h.lower() for h in allowed_hosts))
    out: list[str] = []
    for line in text.split("\n"):
        line = _GH_REF.sub(lambda m: m.group(1) + _PH + m.group(2), line)
        out.append("".join(_escape_char(ch) for ch in line).replace(_PH, ZWSP))
    # A trailing backslash-free, entity-only rendering; keep paragraph breaks but no hard-break tricks.
    return "\n".join(part.rstrip() for part in out)


def escape_cell(text: str, *, max_chars: int = 200, allowed_hosts: Iterable[str] = ("github.com",)) -> str:
    """Untrusted text for a markdown table cell: one line, ``|`` escaped (it is, by escape_text)."""
    return escape_text(text, max_chars=max_chars, allowed_hosts=allowed_hosts, single_line=True) or " "


def _neutralise_markers(text: str) -> str:
    # Inside code, entities are not decoded, so an HTML comment opener is broken with a space.
    return text.replace("<!--", "<!- -").replace("-->", "- ->")


def _longest_run(text: str, ch: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == ch else 0
        best = max(best, run)
    return best


_LANG = re.compile(r"[^A-Za-z0-9_+#.-]")


def fence(code: str, *, lang: str = "", max_chars: int = 20_000) -> str:
    """A fenced code block that ``code`` cannot close: the fence is longer than any backtick run in it."""
    body = _neutralise_markers(cap(strip_hidden(code), max_chars)).rstrip("\n")
    ticks = "`" * max(3, _longest_run(body, "`") + 1)
    info = _LANG.sub("", lang)[:20]
    return f"{ticks}{info}\n{body}\n{ticks}"


def code_span(text: str, *, max_chars: int = 300) -> str:
    """Inline code for untrusted text (paths, rule ids): one line, delimiters longer than any run inside."""
    body = _neutralise_markers(" ".join(cap(strip_hidden(text), max_chars).split()))
    if not body:
        return "` `"
    ticks = "`" * (_longest_run(body, "`") + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def code_cell(text: str, *, max_chars: int = 200) -> str:
    """Inline code inside a table cell: ``|`` must be escaped even inside code spans in GFM tables."""
    return code_span(text, max_chars=max_chars).replace("|", "\\|")


def log_safe(text: str, *, max_chars: int = 2000) -> str:
    """Untrusted text for a plain log line: hidden carriers removed, one line, capped."""
    return " ".join(cap(strip_hidden(text), max_chars).split())
