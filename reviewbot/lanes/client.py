"""Which key and endpoint each lane uses, and the SDK client built from them.

Keys: ``OPENAI_API_KEY_CYBER`` (security lane) / ``OPENAI_API_KEY_GENERAL``
(general lane), else ``OPENAI_API_KEY``; ``OPENAI_BASE_URL`` for any
OpenAI-compatible server. An empty variable counts as unset (GitHub passes
empty strings). The client never retries by itself (``max_retries=0``): the
retry policy is ours (:mod:`reviewbot.lanes.retry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import openai

from ..models import Lane

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LANE_KEY_VARS = {Lane.SECURITY: "OPENAI_API_KEY_CYBER", Lane.GENERAL: "OPENAI_API_KEY_GENERAL"}


@dataclass(frozen=True)
class Endpoint:
    api_key: str = field(repr=False)
    base_url: str
    key_source: str  # the environment variable the key came from (never the key)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value and value.strip() else None


def lane_endpoint(lane: Lane, env: Mapping[str, str]) -> Endpoint | None:
    """The endpoint for ``lane``, or None when no key is set for it."""
    base_url = _get(env, "OPENAI_BASE_URL") or DEFAULT_BASE_URL
    for name in (LANE_KEY_VARS.get(lane), "OPENAI_API_KEY"):
        if name and (key := _get(env, name)):
            return Endpoint(key, base_url, name)
    return None


def make_client(endpoint: Endpoint, *, timeout: float) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=endpoint.api_key,
        base_url=endpoint.base_url,
        max_retries=0,
        timeout=timeout,
    )
