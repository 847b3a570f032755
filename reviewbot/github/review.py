"""The review publisher: one ``COMMENT`` review pinned to the head SHA, inline where GitHub takes them.

* A finding is placed on ``line`` (its end line) with ``side: RIGHT`` only when that
  line is commentable in a hunk of its file; ``start_line`` only when it is less
  than ``line`` and in the same hunk. Otherwise the finding goes to the summary.
* A 422 on a batch is bisected down to the rejected comments, which go to the
  summary with GitHub's reason: no finding is ever lost.
* Every comment carries a hidden fingerprint marker. Markers are trusted only on
  comments authored by the bot's own login; a re-run posts only new fingerprints,
  and re-reads the markers after a 5xx before posting again (the write may have landed).
* Bodies are built here: severity, confidence, CWE, explanation, fix, lane and model —
  every untrusted string redacted (``scrub``) and then escaped.
* A finding whose replacement passes :func:`~reviewbot.report.suggestion.suggestion_for`
  and whose comment covers exactly the replaced lines carries a ``suggestion`` block;
  if GitHub only takes the comment on its last line, it is posted without one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from github import GithubException
from github.Commit import Commit
from github.GithubException import RateLimitExceededException
from github.PullRequest import PullRequest

from ..models import Diff, Finding, Hunk
from ..report.markdown import NotInline, ResolvedFinding
from ..report.sanitize import code_span, escape_text
from ..report.suggestion import Suggestion, suggestion_for

MARKER_RE = re.compile(r"<!-- reviewbot:fp=([0-9a-f]{8,64}) -->")
REVIEW_MARKER = "<!-- reviewbot:review -->"
DEFAULT_BATCH = 25


def marker(fp: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{8,64}", fp):
        raise ValueError(f"not a fingerprint: {fp!r}")
    return f"<!-- reviewbot:fp={fp} -->"


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class PlannedComment:
    fingerprint: str
    path: str
    line: int
    start_line: int | None
    body: str
    single_line_body: str | None = None  # the body to post on ``line`` alone (no multi-line suggestion)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT", "body": self.body}
        if self.start_line is not None:
            out["start_line"] = self.start_line
            out["start_side"] = "RIGHT"
        return out


@dataclass(frozen=True)
class PostedMarker:
    fingerprint: str
    comment_id: int
    path: str
    line: int | None


@dataclass(frozen=True)
class PublishResult:
    posted: tuple[str, ...]  # fingerprints posted by this run
    already_posted: tuple[str, ...]  # fingerprints found on our earlier comments
    not_inline: tuple[NotInline, ...]
    resolved: tuple[ResolvedFinding, ...]
    review_ids: tuple[int, ...]
    requests: int  # create-review calls made (bisection included)
    read_only: bool = False
    notices: tuple[str, ...] = ()


def _hunk_for(hunks: Iterable[Hunk], path: str, line: int) -> Hunk | None:
    for h in hunks:
        if h.path == path and line in h.commentable:
            return h
    return None


def place(finding: Finding, diff: Diff) -> tuple[int, int | None] | str:
    """``(line, start_line)`` for an inline comment, or the reason it cannot be placed."""
    if not finding.placed:
        return "its lines are outside the diff's commentable lines"
    line = max(finding.start_line, finding.end_line)
    hunk = _hunk_for(diff.hunks, finding.path, line)
    if hunk is None:
        return f"line {line} is not part of the diff"
    start: int | None = None
    if finding.start_line < line:
        first = min(hunk.commentable)
        start = max(finding.start_line, first)
        if start >= line or start not in hunk.commentable:
            start = None
    return line, start


def comment_body(
    finding: Finding,
    *,
    scrub: Callable[[str], str],  # the redactor: required, so no publisher can forget it
    allowed_hosts: Sequence[str] = ("github.com",),
    suggestion: Suggestion | None = None,
) -> str:
    def esc(text: str, limit: int, single: bool = False) -> str:
        return escape_text(scrub(text), max_chars=limit, allowed_hosts=allowed_hosts, single_line=single)

    head = [f"**{finding.severity.label.upper()}**", f"confidence: {finding.confidence.label}"]
    if finding.cwe:
        head.append(esc(finding.cwe, 20, True))
    head.append(code_span(scrub(finding.rule), max_chars=80))
    lines = [" · ".join(head), "", f"**{esc(finding.title, 200, True)}**", "", esc(finding.body, 3000)]
    if finding.fix:
        lines += ["", f"**Fix:** {esc(finding.fix, 2000)}"]
    if suggestion is not None:  # vetted code, applied literally: not escaped (see report/suggestion.py)
        lines += ["", suggestion.block()]
    lane = f"{finding.lane.value} lane, " if finding.lane is not None else ""
    lines += [
        "",
        f"<sub>reviewbot · {lane}{esc(finding.source, 100, True)}</sub>",
        marker(finding.fingerprint),
    ]
    return "\n".join(lines)


def read_markers(pull: PullRequest, bot_login: str) -> dict[str, PostedMarker]:
    """Fingerprints on review comments authored by ``bot_login`` (case-insensitive); others' are ignored."""
    found: dict[str, PostedMarker] = {}
    me = bot_login.lower()
    for c in pull.get_review_comments():
        if c.user is None or str(c.user.login).lower() != me:
            continue
        for fp in MARKER_RE.findall(c.body or ""):
            found.setdefault(fp, PostedMarker(fp, int(c.id), str(c.path), c.line))
    return found


class _Stop(Exception):
    def __init__(self, reason: str, *, read_only: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.read_only = read_only


def _github_reason(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    detail = ""
    if isinstance(errors, list) and errors:
        detail = "; ".join(str(e.get("message", e) if isinstance(e, dict) else e) for e in errors)
    return f"GitHub rejected the inline comment ({exc.status}: {detail or data.get('message', 'error')})"


def _is_rate_limit(exc: GithubException) -> bool:
    return (
        isinstance(exc, RateLimitExceededException)
        or exc.status == 429
        or (exc.status == 403 and "rate limit" in str(exc.data).lower())
    )


@dataclass
class _State:
    posted: list[str] = field(default_factory=list)
    rejected: list[NotInline] = field(default_factory=list)
    review_ids: list[int] = field(default_factory=list)
    requests: int = 0
    server_retries: int = 2


class ReviewPublisher:
    """Posts findings as one review. Construct with the PR and its head commit (the SHA analysed)."""

    def __init__(
        self,
        pull: PullRequest,
        commit: Commit,
        *,
        bot_login: str,
        scrub: Callable[[str], str],  # the redactor: required, so no publisher can forget it
        batch_size: int = DEFAULT_BATCH,
        allowed_hosts: Sequence[str] = ("github.com",),
    ) -> None:
        self._pull = pull
        self._commit = commit
        self._login = bot_login
        self._scrub = scrub
        self._batch = max(1, batch_size)
        self._hosts = tuple(allowed_hosts)

    def plan(self, findings: Sequence[Finding], diff: Diff) -> tuple[list[PlannedComment], list[NotInline]]:
        planned: list[PlannedComment] = []
        not_inline: list[NotInline] = []
        seen: set[str] = set()
        for f in sorted(findings, key=Finding.sort_key):
            if f.fingerprint in seen:
                continue
            seen.add(f.fingerprint)
            where = place(f, diff)
            if isinstance(where, str):
                not_inline.append(NotInline(f.fingerprint, where))
                continue
            line, start = where
            body = comment_body(f, scrub=self._scrub, allowed_hosts=self._hosts)
            single: str | None = None
            sugg = suggestion_for(f, diff.hunks, scrub=self._scrub)
            if isinstance(sugg, Suggestion) and (sugg.start_line, sugg.end_line) == (start or line, line):
                single = body if start is not None else None
                body = comment_body(f, scrub=self._scrub, allowed_hosts=self._hosts, suggestion=sugg)
            planned.append(PlannedComment(f.fingerprint, f.path, line, start, body, single))
        return planned, not_inline

    def publish(
        self, findings: Sequence[Finding], diff: Diff, *, reviewed: Collection[str] | None = None
    ) -> PublishResult:
        """Post the new findings; ``reviewed`` holds the ids of the hunks a model saw in this run
        (None: every hunk of ``diff``). An earlier comment is resolved only when its code left the
        diff or its hunk was reviewed again without it: a hunk this run did not review (over
        budget, failed, not selected) proves nothing about its earlier findings."""
        planned, not_inline = self.plan(findings, diff)
        existing = read_markers(self._pull, self._login)
        current = {f.fingerprint for f in findings}

        def gone_or_rechecked(m: PostedMarker) -> bool:
            hunk = _hunk_for(diff.hunks, m.path, m.line) if m.line is not None else None
            return hunk is None or reviewed is None or hunk.id in reviewed

        resolved = tuple(
            ResolvedFinding(m.fingerprint, m.path, m.line)
            for fp, m in sorted(existing.items())
            if fp not in current and gone_or_rechecked(m)
        )
        already = tuple(sorted(fp for fp in current if fp in existing))
        todo = [c for c in planned if c.fingerprint not in existing]
        state = _State()
        read_only = False
        notices: list[str] = []
        try:
            for i in range(0, len(todo), self._batch):
                self._post(todo[i : i + self._batch], state)
        except _Stop as stop:
            read_only = stop.read_only
            notices.append(stop.reason)
            done = set(state.posted) | {r.fingerprint for r in state.rejected}
            state.rejected += [
                NotInline(c.fingerprint, stop.reason) for c in todo if c.fingerprint not in done
            ]
        return PublishResult(
            posted=tuple(sorted(state.posted)),
            already_posted=already,
            not_inline=tuple(sorted(not_inline + state.rejected, key=lambda n: n.fingerprint)),
            resolved=resolved,
            review_ids=tuple(state.review_ids),
            requests=state.requests,
            read_only=read_only,
            notices=tuple(notices),
        )

    def _review_body(self, batch: Sequence[PlannedComment]) -> str:
        n = len(batch)
        return (
            f"reviewbot: {n} new finding{'s' if n != 1 else ''} on "
            f"{code_span(self._commit.sha[:12])}; the summary comment has the full report.\n{REVIEW_MARKER}"
        )

    def _post(self, batch: list[PlannedComment], state: _State) -> None:
        if not batch:
            return
        state.requests += 1
        try:
            review = self._pull.create_review(
                commit=self._commit,
                body=self._review_body(batch),
                event="COMMENT",
                comments=[c.payload() for c in batch],  # type: ignore[misc]
            )
        except GithubException as exc:
            self._failed(batch, state, exc)
            return
        state.review_ids.append(int(review.id))
        state.posted += [c.fingerprint for c in batch]

    def _failed(self, batch: list[PlannedComment], state: _State, exc: GithubException) -> None:
        if _is_rate_limit(exc):
            raise _Stop(f"GitHub rate limit: inline comments not posted ({exc.status})") from None
        if exc.status in (401, 403, 404):
            raise _Stop(
                f"the token cannot post reviews ({exc.status}): findings are in the summary instead",
                read_only=exc.status != 401,
            ) from None
        if exc.status == 422:
            if len(batch) > 1:
                mid = len(batch) // 2
                self._post(batch[:mid], state)
                self._post(batch[mid:], state)
                return
            (only,) = batch
            if only.start_line is not None:  # a multi-line range GitHub would not take: try the line alone
                body = only.single_line_body if only.single_line_body is not None else only.body
                self._post([PlannedComment(only.fingerprint, only.path, only.line, None, body)], state)
                return
            state.rejected.append(NotInline(only.fingerprint, _github_reason(exc)))
            return
        if exc.status >= 500:
            # The review may have been created before the error: re-read our markers before posting again.
            landed = read_markers(self._pull, self._login)
            state.posted += [c.fingerprint for c in batch if c.fingerprint in landed]
            remaining = [c for c in batch if c.fingerprint not in landed]
            if remaining and state.server_retries > 0:
                state.server_retries -= 1
                self._post(remaining, state)
                return
            state.rejected += [NotInline(c.fingerprint, f"GitHub answered {exc.status}") for c in remaining]
            return
        state.rejected += [NotInline(c.fingerprint, _github_reason(exc)) for c in batch]
