"""Hunk text as a model sees it: one line per hunk line, with its new-side line number.

Redaction runs on the hunk's diff body first (line structure preserved), and the
numbers are added afterwards from the parsed lines, so a secret can never hide in,
or shift, the numbering.
"""

from __future__ import annotations

from .models import Hunk, RedactedText


def render_hunk(hunk: Hunk, redacted_body: RedactedText, kept: int | None = None) -> RedactedText:
    """``redacted_body`` is the redacted ``hunk.body()``; ``kept`` clips to the first lines."""
    texts = redacted_body.split("\n")
    out = []
    lines = hunk.lines if kept is None else hunk.lines[:kept]
    for index, line in enumerate(lines):
        text = texts[index] if index < len(texts) else ""
        number = "" if line.new_no is None else str(line.new_no)
        # The body line keeps its own +/-/space prefix.
        out.append(f"{number:>6} {text}")
    return RedactedText("\n".join(out))
