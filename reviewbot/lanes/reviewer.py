"""The seam between reviewbot and a model: one Responses API call.

:class:`Reviewer` is the interface; :class:`OpenAIReviewer` talks to the
Responses API through the SDK; :class:`FakeReviewer` answers in memory for
unit tests. A failed call raises :class:`~reviewbot.lanes.errors.LaneCallError`
carrying its classification, whatever the implementation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import openai

from ..models import Lane, Usage
from .client import Endpoint, make_client
from .errors import Classified, ErrorKind, LaneCallError, classify


@dataclass(frozen=True)
class ModelReply:
    """What came back from one successful (2xx) call."""

    model: str
    status: str  # "completed", "incomplete", ...
    output_text: str
    usage: Usage
    access_program: str | None  # the cyber program that actually served; None: implicit standard
    refusal: str | None = None
    incomplete_reason: str | None = None
    response_id: str = ""


class Reviewer(Protocol):
    """Sends one request body for ``lane`` (whose key is used) and returns the reply."""

    def create(self, lane: Lane, body: Mapping[str, Any], *, timeout: float) -> ModelReply: ...

    def key_source(self, lane: Lane) -> str | None:
        """The environment variable whose key this lane uses (None: no key)."""
        ...


def reply_from_response(response: Any) -> ModelReply:
    """Read a ``openai.types.responses.Response`` into a :class:`ModelReply`."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in response.output or ():
        if getattr(item, "type", None) != "message":
            continue
        for part in item.content or ():
            if part.type == "output_text":
                texts.append(part.text)
            elif part.type == "refusal":
                refusals.append(part.refusal)
    usage = response.usage
    programs = getattr(response, "access_programs", None)
    incomplete = response.incomplete_details
    return ModelReply(
        model=str(response.model),
        status=str(response.status or "completed"),
        output_text="".join(texts),
        usage=Usage(
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            cached_tokens=usage.input_tokens_details.cached_tokens if usage else 0,
        ),
        access_program=getattr(programs, "cyber", None) if programs is not None else None,
        refusal="\n".join(refusals) or None,
        incomplete_reason=getattr(incomplete, "reason", None) if incomplete else None,
        response_id=str(response.id),
    )


class OpenAIReviewer:
    """The Responses API through the SDK, one client per lane (its own key), built on first use."""

    def __init__(self, endpoints: Mapping[Lane, Endpoint]) -> None:
        self._endpoints = dict(endpoints)
        self._clients: dict[tuple[Lane, float], openai.OpenAI] = {}
        self._lock = threading.Lock()

    def key_source(self, lane: Lane) -> str | None:
        endpoint = self._endpoints.get(lane)
        return endpoint.key_source if endpoint else None

    def _client(self, lane: Lane, timeout: float) -> openai.OpenAI:
        endpoint = self._endpoints.get(lane)
        if endpoint is None:
            raise LaneCallError(Classified(ErrorKind.AUTH, None, None, f"no API key for the {lane} lane"))
        with self._lock:
            client = self._clients.get((lane, timeout))
            if client is None:
                client = self._clients[(lane, timeout)] = make_client(endpoint, timeout=timeout)
            return client

    def create(self, lane: Lane, body: Mapping[str, Any], *, timeout: float) -> ModelReply:
        client = self._client(lane, timeout)
        try:
            response = client.responses.create(**body)
        except openai.APIError as exc:
            raise LaneCallError(classify(exc), model=str(body.get("model"))) from exc
        return reply_from_response(response)


Script = Callable[[Lane, Mapping[str, Any]], ModelReply | Classified]


class FakeReviewer:
    """In-memory :class:`Reviewer`: ``script(lane, body)`` returns a reply or a classified error."""

    def __init__(self, script: Script, *, keys: Mapping[Lane, str] | None = None) -> None:
        self._script = script
        self._keys = (
            dict(keys)
            if keys is not None
            else {Lane.SECURITY: "OPENAI_API_KEY", Lane.GENERAL: "OPENAI_API_KEY"}
        )
        self._lock = threading.Lock()
        self.calls: list[tuple[Lane, dict[str, Any]]] = []

    def key_source(self, lane: Lane) -> str | None:
        return self._keys.get(lane)

    def create(self, lane: Lane, body: Mapping[str, Any], *, timeout: float) -> ModelReply:
        with self._lock:
            self.calls.append((lane, dict(body)))
        result = self._script(lane, body)
        if isinstance(result, Classified):
            raise LaneCallError(result, model=str(body.get("model")))
        return result
