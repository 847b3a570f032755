"""Classify a failed model call into what reviewbot does next (DESIGN.md §4).

One small function, :func:`classify_status`, holds the table; :func:`classify`
adapts an exception from the OpenAI SDK to it. ``APITimeoutError`` subclasses
``APIConnectionError``, so it is tested first.
"""

from __future__ import annotations

import email.utils
import enum
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import openai

from ..errors import AuthError, ModelError


class ErrorKind(enum.StrEnum):
    LANE_UNAVAILABLE = "lane-unavailable"  # 403/404: fall back to the lane's fallback
    AUTH = "auth"  # 401: abort, exit 4
    QUOTA = "quota"  # 429 insufficient_quota / spend limits: abort, exit 4
    RATE_LIMIT = "rate-limit"  # 429 rate_limit_exceeded: retry after the server's delay
    TRANSIENT = "transient"  # 408/409/5xx/connection/timeout: bounded retry with backoff
    SAFEGUARD = "safeguard"  # 400 cyber_policy: never resend, fall back once, then blocked
    CONFIG = "config"  # 400 invalid_access_program: explain, never a silent fallback
    FAILED = "failed"  # any other 4xx: this request fails

    @property
    def retryable(self) -> bool:
        return self in (ErrorKind.RATE_LIMIT, ErrorKind.TRANSIENT)

    @property
    def fatal(self) -> bool:
        return self in (ErrorKind.AUTH, ErrorKind.QUOTA)


QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "credit_balance_exhausted",
        "organization_spend_limit_exceeded",
        "project_spend_limit_exceeded",
        "organization_usage_limit_exceeded",
        "billing_hard_limit_reached",
        "billing_not_active",
    }
)


@dataclass(frozen=True)
class Classified:
    kind: ErrorKind
    status: int | None  # None: no HTTP answer (connection error, timeout)
    code: str | None
    message: str
    retry_after: float | None = None  # seconds, from retry-after-ms / retry-after

    @property
    def short(self) -> str:
        """A few words for a user: ``denied (403 model_access_denied)``."""
        what = {
            ErrorKind.LANE_UNAVAILABLE: "denied" if self.status == 403 else "not found",
            ErrorKind.AUTH: "bad key",
            ErrorKind.QUOTA: "quota exhausted",
            ErrorKind.RATE_LIMIT: "rate limited",
            ErrorKind.TRANSIENT: "unreachable",
            ErrorKind.SAFEGUARD: "blocked by safeguard",
            ErrorKind.CONFIG: "invalid access program",
            ErrorKind.FAILED: "request failed",
        }[self.kind]
        parts = [str(self.status)] if self.status is not None else []
        if self.code:
            parts.append(self.code)
        elif self.status is None:
            parts.append(self.message)
        return f"{what} ({' '.join(parts)})" if parts else what


def classify_status(
    status: int | None,
    code: str | None = None,
    *,
    error_type: str | None = None,
    message: str = "",
    headers: Mapping[str, str] | None = None,
) -> Classified:
    """The table of DESIGN.md §4. ``status`` None means no HTTP answer at all."""

    def make(kind: ErrorKind, retry_after: float | None = None) -> Classified:
        return Classified(kind, status, code, message, retry_after)

    if status is None or status in (408, 409) or status >= 500:
        return make(ErrorKind.TRANSIENT, retry_after_seconds(headers))
    if status == 401:
        return make(ErrorKind.AUTH)
    if status in (403, 404):
        return make(ErrorKind.LANE_UNAVAILABLE)
    if status == 429:
        if code in QUOTA_CODES or error_type in QUOTA_CODES:
            return make(ErrorKind.QUOTA)
        return make(ErrorKind.RATE_LIMIT, retry_after_seconds(headers))
    if status == 400 and code == "cyber_policy":
        return make(ErrorKind.SAFEGUARD)
    if status == 400 and code == "invalid_access_program":
        return make(ErrorKind.CONFIG)
    return make(ErrorKind.FAILED)


def classify(exc: BaseException) -> Classified:
    """Classify an exception raised by the OpenAI SDK (or the network under it)."""
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is a subclass
        return Classified(ErrorKind.TRANSIENT, None, None, "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return Classified(ErrorKind.TRANSIENT, None, None, "connection error")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, Mapping) else {}
        error_type = body.get("type")
        return classify_status(
            exc.status_code,
            exc.code,
            error_type=error_type if isinstance(error_type, str) else None,
            message=str(body.get("message") or exc.message),
            headers=exc.response.headers,
        )
    if isinstance(exc, TimeoutError | ConnectionError):
        return Classified(ErrorKind.TRANSIENT, None, None, type(exc).__name__)
    return Classified(ErrorKind.FAILED, None, None, type(exc).__name__)


def retry_after_seconds(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = lower.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) / divisor
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0:
            return value
    raw = lower.get("retry-after")
    if raw:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is not None:
            return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))
    return None


class LaneCallError(ModelError):
    """A model call failed; ``classified`` says how and what to do next."""

    def __init__(self, classified: Classified, *, model: str | None = None) -> None:
        where = f" from {model}" if model else ""
        super().__init__(f"model call failed{where}: {classified.short}")
        self.classified = classified
        self.model = model


class LaneAuthError(AuthError):
    """Bad API key, exhausted quota or spend limit (exit 4)."""


class AccessProgramError(ModelError):
    """The lane's access program is not accepted by its model: a configuration error."""


def fatal_error(classified: Classified, *, key_source: str | None = None) -> LaneAuthError:
    """The error that ends a run on a bad key or an exhausted quota, with a hint."""
    source = key_source or "OPENAI_API_KEY"
    if classified.kind is ErrorKind.AUTH:
        return LaneAuthError(
            f"the API key in {source} was rejected ({classified.short})",
            hint=f"check {source}: the key may be revoked, mistyped or from another organisation",
        )
    return LaneAuthError(
        f"the API key in {source} has no quota left ({classified.short})",
        hint="add credits or raise the project's spend limit; retrying does not help",
    )
