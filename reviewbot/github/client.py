"""PyGithub construction: GITHUB_API_URL, token, timeouts, a retry policy that never repeats a write blindly.

Retry policy (:class:`ReviewbotRetry`):

* reads (GET) are retried on 5xx and on rate limits, with backoff;
* writes (POST, PATCH) are retried **only** on rate-limit answers (403/429 with a
  rate-limit message or ``Retry-After``), which GitHub did not process. A 5xx on a
  write is not retried by the transport: the publisher re-reads its markers and
  decides, so a review is never posted twice;
* ``Retry-After`` is honoured; a wait longer than ``max_wait`` is not waited out
  but raised (:class:`github.GithubException.RateLimitExceededExceedsMaxWait`).

The bot's own identity (whose markers we trust) is resolved by :func:`resolve_bot_login`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from urllib3 import Retry

from .. import __version__
from ..errors import GitHubError

DEFAULT_API_URL = "https://api.github.com"
ACTIONS_BOT_LOGIN = "github-actions[bot]"
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_RATE_LIMIT_STATUSES = frozenset({403, 429})


class GitHubAuthError(GitHubError):
    """The token was refused (401) or cannot tell who it is."""

    exit_code = 4


@dataclass(frozen=True)
class ClientSettings:
    api_url: str = DEFAULT_API_URL
    token: str = ""
    timeout: int = 30
    retries: int = 4  # attempts after the first, for reads and rate-limited writes
    backoff_factor: float = 1.0
    max_wait: float = 120.0  # longest Retry-After / rate-limit wait we sit through
    secondary_rate_wait: float = 60.0  # GitHub: wait at least a minute when no Retry-After is given
    per_page: int = 100
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0


class ReviewbotRetry(GithubRetry):
    """GithubRetry that retries writes only on rate limits, honours Retry-After and caps every wait."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 120.0,
        **kwargs: Any,
    ) -> None:
        self._sleeper = sleep
        self._max_wait = max_wait
        kwargs.setdefault("status_forcelist", [*range(500, 600), 429])
        kwargs.setdefault("allowed_methods", Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"})
        kwargs.setdefault("raise_on_status", False)
        kwargs.setdefault("respect_retry_after_header", True)
        kwargs["max_rate_limit_wait"] = max_wait
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> ReviewbotRetry:
        kw.update(sleep=self._sleeper, max_wait=self._max_wait)
        new: ReviewbotRetry = super().new(**kw)
        return new

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() in _WRITE_METHODS and status_code not in _RATE_LIMIT_STATUSES:
            return False  # a write answered 5xx may have been applied: the caller re-reads before re-posting
        return bool(super().is_retry(method, status_code, has_retry_after))

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if response is not None and response.status in _RATE_LIMIT_STATUSES:
            after = response.headers.get("Retry-After")
            if after is not None:
                wait = self.parse_retry_after(after)
                if wait > self._max_wait:
                    raise RateLimitExceededExceedsMaxWait(
                        response.status, {"message": "rate limited"}, dict(response.headers), wait=wait
                    )
            elif response.status == 429:
                # 429 without Retry-After: GitHub asks for at least a minute.
                retry = super().increment(method, url, response, error, _pool, _stacktrace)
                wait = min(self.secondary_rate_wait, self._max_wait)
                retry.get_backoff_time = lambda: wait  # type: ignore[method-assign]
                return retry
        result: Retry = super().increment(method, url, response, error, _pool, _stacktrace)
        return result

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self._sleeper(min(retry_after, self._max_wait))
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self._sleeper(min(backoff, self._max_wait))


def make_retry(settings: ClientSettings, *, sleep: Callable[[float], None] = time.sleep) -> ReviewbotRetry:
    return ReviewbotRetry(
        total=settings.retries,
        backoff_factor=settings.backoff_factor,
        secondary_rate_wait=settings.secondary_rate_wait,
        sleep=sleep,
        max_wait=settings.max_wait,
    )


def make_github(settings: ClientSettings, *, sleep: Callable[[float], None] = time.sleep) -> Github:
    """A PyGithub client. No request is made here (lazy objects); I/O happens in the callers' methods."""
    if not settings.token:
        raise GitHubAuthError(
            "no GitHub token", hint="set GITHUB_TOKEN (in a workflow: `${{ github.token }}`)"
        )
    return Github(
        auth=Auth.Token(settings.token),
        base_url=(settings.api_url or DEFAULT_API_URL).rstrip("/"),
        timeout=settings.timeout,
        user_agent=f"reviewbot/{__version__}",
        per_page=settings.per_page,
        retry=make_retry(settings, sleep=sleep),
        seconds_between_requests=settings.seconds_between_requests or None,
        seconds_between_writes=settings.seconds_between_writes or None,
        lazy=True,
    )


@dataclass(frozen=True)
class BotIdentity:
    login: str
    how: str  # "configured", "graphql-viewer", "rest-user"


def resolve_bot_login(gh: Github, *, configured: str | None = None) -> BotIdentity:
    """Who we are, so that only our own markers are trusted.

    Order: an explicitly configured login (``REVIEWBOT_BOT_LOGIN``); GraphQL
    ``{ viewer { login } }``, which answers for user tokens and installation
    tokens alike (``github-actions[bot]`` for the Actions ``GITHUB_TOKEN``);
    REST ``GET /user``, which answers only for user tokens (an installation token
    gets 403 "Resource not accessible by integration"). If none answers we stop:
    guessing would either trust forged markers or repost everything.
    """
    if configured and configured.strip():
        return BotIdentity(configured.strip(), "configured")
    failures: list[str] = []
    try:
        _, data = gh.requester.graphql_query("query { viewer { login } }", {})
        login = ((data.get("data") or {}).get("viewer") or {}).get("login")
        if isinstance(login, str) and login:
            return BotIdentity(login, "graphql-viewer")
        failures.append("GraphQL viewer gave no login")
    except GithubException as exc:
        if exc.status == 401:
            raise GitHubAuthError("GitHub refused the token (401)", hint="check GITHUB_TOKEN") from None
        failures.append(f"GraphQL viewer: {exc.status}")
    try:
        user = gh.get_user()
        return BotIdentity(str(user.login), "rest-user")
    except GithubException as exc:
        failures.append(f"GET /user: {exc.status}")
    raise GitHubAuthError(
        "cannot tell which GitHub identity this token posts as (" + "; ".join(failures) + ")",
        hint="set REVIEWBOT_BOT_LOGIN to the bot's login, e.g. github-actions[bot]",
    )
