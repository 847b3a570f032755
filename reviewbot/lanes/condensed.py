"""Dependency hunks as the model lanes see them: their package changes, condensed and redacted.

The hunks of lockfiles and manifests (:mod:`reviewbot.deps`) routed to a model lane are not sent
as their raw lines (mostly hashes and URLs) but as the list of package changes they make, one line
per change, each numbered with the new-side line that names the package when the hunk shows it
(so a finding quoting that line is placed there, and a quote of anything else is kept unplaced).
The hunk is then reviewed in mode ``condensed``.

A hunk stays raw, with a note, when its file's parser cannot read it, and when the redactor
masked a secret in its raw text: the list is built from the unredacted lines and could carry a
part of a secret that, cut out of its line, is no longer recognised. (Personal data does not send
a hunk raw: composer.lock lists every author's e-mail address, and the list names no authors.)
The list itself is diff text: it passes the redactor whole before it becomes
:data:`~reviewbot.models.RedactedText`, personal data included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..deps import DepChange, condense, is_dependency_file, render_item
from ..models import Diff, Hunk, Lane, RedactedText, Route
from ..redact import RedactionResult, Redactor, is_pii
from .prompt import CONDENSED, NumberedLine, PromptHunk

NOTHING_OF_ITS_OWN = "(no package change of its own: only lock metadata, or changes listed under another hunk)"
MAX_LINE_CHARS = 600  # a package line longer than this is cut (a long source URL, many fields)


@dataclass(frozen=True)
class CondensedHunks:
    """The condensed prompt hunks of one diff, and the dependency hunks that stay raw (with why)."""

    prompts: Mapping[str, PromptHunk] = field(default_factory=dict)  # hunk id -> its condensed hunk
    raw: tuple[str, ...] = ()  # dependency hunks sent as their raw (redacted) lines
    notes: tuple[str, ...] = ()
    changes: int = 0  # package changes listed
    files: int = 0  # dependency files seen


def condense_hunks(
    diff: Diff,
    routes: Sequence[Route],
    *,
    redactor: Redactor,
    redacted: Mapping[str, RedactionResult],
) -> CondensedHunks:
    """Condense the dependency hunks routed to a model lane (``redacted``: each hunk's redacted body)."""
    lanes = {r.hunk_id: r.lane for r in routes if r.lane is not Lane.SKIP}
    files = [
        replace(f, hunks=tuple(h for h in f.hunks if h.id in lanes))
        for f in diff.files
        if is_dependency_file(f.path) and any(h.id in lanes for h in f.hunks)
    ]
    if not files:
        return CondensedHunks()
    result = condense(files)
    hunks = {h.id: h for f in files for h in f.hunks}
    notes = [f"{n.path}: {n.note}" for n in result.notes]
    raw = list(result.raw)
    shown: dict[str, list[DepChange]] = {hid: [] for hid in result.covered}
    for item in result.items:
        home = _home(item, hunks, shown)
        if home is not None:
            shown[home].append(item)
    prompts: dict[str, PromptHunk] = {}
    masked: dict[str, int] = {}
    with_secret = {h for h in hunks if any(not is_pii(r.kind) for r in redacted[h].redactions)}
    for hid in result.covered:
        hunk = hunks[hid]
        # An item can carry values of another hunk of its file (the old side of a moved entry).
        sources = {hid}.union(*(item.hunk_ids for item in shown[hid]))
        prompt = None if sources & with_secret else _prompt(hunk, lanes[hid], shown[hid], redactor)
        if prompt is None:
            raw.append(hid)
            masked[hunk.path] = masked.get(hunk.path, 0) + 1
        else:
            prompts[hid] = prompt
    notes.extend(
        f"{path}: {n} hunk(s) sent as redacted raw hunks, not condensed: they hold, or share a package "
        "with a hunk that holds, a secret the redactor masks"
        for path, n in sorted(masked.items())
    )
    return CondensedHunks(
        prompts=prompts,
        raw=tuple(sorted(raw)),
        notes=tuple(notes),
        changes=sum(len(shown[h]) for h in prompts),
        files=len(files),
    )


def _home(item: DepChange, hunks: Mapping[str, Hunk], shown: Mapping[str, list[DepChange]]) -> str | None:
    """The covered hunk that shows ``item``: the one holding the line naming the package, else its first."""
    candidates = [h for h in item.hunk_ids if h in shown]
    for hid in candidates:
        hunk = hunks[hid]
        if item.line is None:
            break
        if item.old_side and any(ln.old_no == item.line and ln.kind != "+" for ln in hunk.lines):
            return hid
        if not item.old_side and item.line in hunk.commentable:
            return hid
    if candidates:
        return candidates[0]
    return next((h for h in shown if hunks[h].path == item.path), None)


def _prompt(hunk: Hunk, lane: Lane, items: Sequence[DepChange], redactor: Redactor) -> PromptHunk | None:
    """The hunk as its package changes, redacted; None when redacting the list changes its number
    of lines (a masked block took lines with it: one line per change no longer holds)."""
    texts = [" ".join(render_item(item, line=False).split()) for item in items] or [NOTHING_OF_ITS_OWN]
    numbers = [
        item.line if item.line is not None and not item.old_side and item.line in hunk.commentable else None
        for item in items
    ] or [None]
    red = redactor.scrub("\n".join(texts)).split("\n")
    if len(red) != len(texts):
        return None
    # Cut after redaction: a cut first could leave half a secret the redactor no longer knows.
    lines = tuple(NumberedLine(n, "", RedactedText(_cap(t))) for n, t in zip(numbers, red, strict=True))
    return PromptHunk(hunk.id, redactor.scrub(hunk.path), lane, hunk.header, lines, mode=CONDENSED)


def _cap(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 1] + "…"
