"""One-click fix suggestions: a finding's replacement, vetted before it becomes a ```` ```suggestion ```` block.

A suggestion is code that GitHub applies literally when the author clicks "Commit
suggestion", and the text comes from a model (attacker-controlled through the
diff). So it is never escaped (escaping would corrupt the code) but refused
whole when it is unsafe. Offered only when all of these hold:

* the finding is placed and its replacement was checked against the quoted lines
  (:func:`reviewbot.lanes.findings.checked_replacement`);
* every line from ``start_line`` to ``end_line`` is a commentable new-side line
  of one hunk of the file (the range an inline comment can cover);
* the text holds no masked value (a ``[REDACTED:`` placeholder, or anything the
  redactor would mask now), no code fence (a run of three backticks or tildes:
  the only way out of the block), no HTML comment opener or closer (our hidden
  markers are read from raw comment bodies, so a forged one must not be
  possible), no hidden carrier (zero-width, bidi controls, tag characters, stray
  control characters: a "Trojan Source" change that reads differently from
  what it does), and no URL to a host the replaced lines do not already name (a
  bot-signed suggestion must not carry a model's link to the author);
* it changes something, is not blank, and is at most :data:`MAX_CHARS` long.

``@`` and ``#`` are allowed: inside a fenced block GitHub renders no mention,
reference, link, image or HTML, and notifies no one; refusing them would refuse
every Python decorator and most shell or YAML fixes. The fence is the only way
out of the block, and it is refused.

SARIF's ``fixes`` use the same function, so a fix is in the SARIF exactly when the
inline comment offers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..models import Finding, Hunk
from ..redact import PLACEHOLDER
from .sanitize import strip_hidden, url_hosts

MAX_CHARS = 4000
MAX_LINES = 200
_FENCE = re.compile(r"`{3,}|~{3,}")
_MARKERS = ("<!--", "-->")


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class Suggestion:
    """A vetted replacement of new-side lines ``start_line``..``end_line`` of ``path``."""

    path: str
    start_line: int
    end_line: int
    text: str  # the new lines, without a trailing newline

    def block(self) -> str:
        """The markdown GitHub turns into a one-click suggestion."""
        return f"```suggestion\n{self.text}\n```"


def refusal(text: str, replaced: str, *, scrub: Callable[[str], str] = _identity) -> str | None:
    """Why ``text`` must not be offered in place of ``replaced``, or None when it may be."""
    if "[REDACTED" in text or PLACEHOLDER.search(text) or scrub(text) != text:
        return "it would contain a masked value"
    if _FENCE.search(text):
        return "it would contain a code fence"
    if any(m in text for m in _MARKERS):
        return "it would contain an HTML comment"
    if strip_hidden(text) != text or "\r" in text:
        return "it would contain hidden or control characters"
    if not url_hosts(text) <= url_hosts(replaced):
        return "it would add a link to a host the code does not name"
    if len(text) > MAX_CHARS or text.count("\n") >= MAX_LINES:
        return "it is too long"
    if not text.strip():
        return "it is blank"
    if text == replaced:
        return "it changes nothing"
    return None


def _hunk_covering(hunks: Iterable[Hunk], finding: Finding) -> Hunk | None:
    span = range(finding.start_line, finding.end_line + 1)
    for h in hunks:
        if h.path == finding.path and all(n in h.commentable for n in span):
            return h
    return None


def suggestion_for(
    finding: Finding, hunks: Iterable[Hunk], *, scrub: Callable[[str], str] = _identity
) -> Suggestion | str:
    """The suggestion for ``finding`` in the diff of ``hunks``, or the reason there is none."""
    if finding.replacement is None:
        return "no replacement of exactly the quoted lines was offered"
    if not finding.placed or finding.start_line > finding.end_line or finding.start_line < 1:
        return "the finding is not placed on the diff"
    hunk = _hunk_covering(hunks, finding)
    if hunk is None:
        return "it spans lines outside the comment's range"
    by_number = {ln.new_no: ln.text for ln in hunk.lines if ln.new_no is not None}
    replaced = "\n".join(by_number.get(n, "") for n in range(finding.start_line, finding.end_line + 1))
    why = refusal(finding.replacement, replaced, scrub=scrub)
    if why is not None:
        return why
    return Suggestion(finding.path, finding.start_line, finding.end_line, finding.replacement)
