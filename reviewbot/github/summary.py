"""The one summary comment: found by its hidden marker on a comment authored by the bot, edited in place.

A comment by anyone else that carries our marker is ignored (never edited, never
trusted). The body stays under GitHub's 65,536-character limit with a margin; what
does not fit is cut at a line boundary with a line saying where the rest is.
"""

from __future__ import annotations

from dataclasses import dataclass

from github import GithubException
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest

SUMMARY_MARKER = "<!-- reviewbot:summary -->"
GITHUB_BODY_LIMIT = 65_536
SUMMARY_LIMIT = 60_000  # our cap: margin under GitHub's limit
OVERFLOW_NOTE = (
    "\n\n_This summary was cut at GitHub's comment size limit: the full report is in the job summary "
    "and the workflow artifact._\n"
)


@dataclass(frozen=True)
class SummaryResult:
    comment_id: int | None
    created: bool
    edited: bool
    truncated: bool
    read_only: bool = False
    error: str | None = None


def fit(markdown: str, limit: int = SUMMARY_LIMIT) -> tuple[str, bool]:
    """The comment body (marker first) within ``limit`` characters, and whether it was cut."""
    body = f"{SUMMARY_MARKER}\n{markdown}"
    if len(body) <= limit:
        return body, False
    room = max(0, limit - len(OVERFLOW_NOTE))
    cut = body.rfind("\n", 0, room)
    return body[: max(cut, len(SUMMARY_MARKER))] + OVERFLOW_NOTE, True


def is_ours(comment: IssueComment, bot_login: str) -> bool:
    user = comment.user
    return (
        user is not None
        and str(user.login).lower() == bot_login.lower()
        and (comment.body or "").startswith(SUMMARY_MARKER)
    )


def find_summary(pull: PullRequest, bot_login: str) -> IssueComment | None:
    """Our oldest summary comment, or None. Others' comments with the marker are ignored."""
    for comment in pull.get_issue_comments():
        if is_ours(comment, bot_login):
            return comment
    return None


def upsert_summary(
    pull: PullRequest, markdown: str, *, bot_login: str, limit: int = SUMMARY_LIMIT
) -> SummaryResult:
    """Create or edit the summary. A 403 (read-only token) is a result, not an exception."""
    body, truncated = fit(markdown, limit)
    try:
        existing = find_summary(pull, bot_login)
        if existing is not None:
            if existing.body != body:
                existing.edit(body)
            return SummaryResult(int(existing.id), created=False, edited=True, truncated=truncated)
        try:
            created = pull.create_issue_comment(body)
        except GithubException as exc:
            if exc.status < 500:
                raise
            # The comment may exist despite the error: look before posting again.
            again = find_summary(pull, bot_login)
            if again is not None:
                if again.body != body:
                    again.edit(body)
                return SummaryResult(int(again.id), created=True, edited=False, truncated=truncated)
            created = pull.create_issue_comment(body)
        return SummaryResult(int(created.id), created=True, edited=False, truncated=truncated)
    except GithubException as exc:
        read_only = exc.status in (403, 404)
        return SummaryResult(
            None,
            created=False,
            edited=False,
            truncated=truncated,
            read_only=read_only,
            error=f"GitHub answered {exc.status} when writing the summary comment",
        )
