"""A loopback fake of the OpenAI Responses API (127.0.0.1 only).

Real HTTP on a real socket, so the SDK's own transport, error parsing and
header handling are exercised. Every request body is validated against
``CreateResponse`` from ``../shared/fixtures/openai/openapi.json`` (when the
file is present; otherwise :attr:`FakeOpenAI.validation_note` says why not)
and every success is shaped as ``Response``, with real ``usage``.

Behaviour is scripted per (api key, model) as a sequence; the last one sticks::

    fake.script("gpt-5.5-cyber-preview", "rate_limit", "allow")
    fake.script("gpt-5.5", "deny", key="sk-general")

The review text is produced by ``fake.reply(body) -> str``. Requests are
recorded with the authorization header removed, so tests can assert on what
was sent and that no secret was.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "openai" / "openapi.json"

BEHAVIOURS = (
    "allow",  # 200 completed, served under the access program asked for
    "allow_standard",  # 200 completed, but access_programs null (implicit Standard)
    "deny",  # 403 permission / access-program error
    "not_found",  # 404 model_not_found
    "bad_key",  # 401 invalid_api_key
    "rate_limit",  # 429 rate_limit_exceeded with retry-after-ms
    "quota",  # 429 insufficient_quota
    "spend_limit",  # 429 project_spend_limit_exceeded (type insufficient_quota)
    "fail500",
    "fail503",
    "hang",  # answers only after hang_seconds (past the client's timeout)
    "incomplete",  # 200 status incomplete, incomplete_details max_output_tokens
    "refuse",  # 200 with a refusal content part
    "invalid_json",  # 200 with output text that is not JSON
    "cyber_policy",  # 400 code cyber_policy
    "invalid_access_program",  # 400 code invalid_access_program
)

_SPEC_CACHE: dict[str, Any] = {}


def _validators() -> tuple[Any, Any] | None:
    """(CreateResponse validator, Response validator), or None when the spec is absent."""
    if "v" in _SPEC_CACHE:
        return _SPEC_CACHE["v"]  # type: ignore[no-any-return]
    result: tuple[Any, Any] | None = None
    if SPEC_PATH.is_file():
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        doc = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
        uri = "urn:openai-openapi"
        registry: Registry[Any] = Registry().with_resource(
            uri, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        result = (
            Draft202012Validator({"$ref": f"{uri}#/components/schemas/CreateResponse"}, registry=registry),
            Draft202012Validator({"$ref": f"{uri}#/components/schemas/Response"}, registry=registry),
        )
    _SPEC_CACHE["v"] = result
    return result


def count_tokens(text: str) -> int:
    """The fake's token count: one token per 4 characters, at least 1."""
    return max(1, math.ceil(len(text) / 4))


def input_text(body: dict[str, Any]) -> str:
    """The request's input as one string (input may be a string or a list of messages)."""
    value = body.get("input", "")
    if isinstance(value, str):
        return value
    parts: list[str] = []
    for item in value if isinstance(value, list) else []:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return "\n".join(parts)


def wants_escalations(body: dict[str, Any]) -> bool:
    """True when the request's output schema has an ``escalations`` list (the general lane's)."""
    schema = ((body.get("text") or {}).get("format") or {}).get("schema") or {}
    return "escalations" in (schema.get("required") or ())


def review_output(
    body: dict[str, Any], findings: list[dict[str, Any]], escalations: list[dict[str, Any]] | None = None
) -> str:
    """Output text of the request's own schema: ``escalations`` only where the schema has it."""
    out: dict[str, Any] = {"findings": findings}
    if wants_escalations(body):
        out["escalations"] = escalations or []
    return json.dumps(out)


def default_reply(body: dict[str, Any]) -> str:
    if input_text(body) == "ping":
        return "pong"
    return review_output(body, [])


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names, authorization removed
    body: Any
    key_label: str  # a label, never the key
    behaviour: str
    schema_errors: tuple[str, ...] = ()


@dataclass
class FakeOpenAI:
    latency: float = 0.0
    hang_seconds: float = 5.0
    retry_after_ms: int = 20
    reply: Callable[[dict[str, Any]], str] = default_reply
    keys: dict[str, str] = field(default_factory=dict)  # key -> label; empty: any key is valid
    validate_replies: bool = True
    requests: list[RecordedRequest] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    validation_note: str | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    usages: list[dict[str, Any]] = field(default_factory=list)  # the usage of every reply sent, in order

    def __post_init__(self) -> None:
        self._scripts: dict[tuple[str | None, str | None], list[str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._cache_keys: set[tuple[str, str]] = set()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._validators = _validators()
        if self._validators is None:
            self.validation_note = f"{SPEC_PATH} absent: request bodies are not validated against the spec"

    # -- scripting -------------------------------------------------------
    def script(self, model: str | None, *behaviours: str, key: str | None = None) -> None:
        """Behaviours for (key label, model), consumed in order; the last one repeats."""
        for b in behaviours:
            if b not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {b!r}")
        with self._lock:
            self._scripts[(key, model)] = list(behaviours)

    def _next_behaviour(self, label: str, model: str) -> str:
        with self._lock:
            for k in ((label, model), (None, model), (label, None), (None, None)):
                seq = self._scripts.get(k)
                if seq:
                    return seq.pop(0) if len(seq) > 1 else seq[0]
        return "allow"

    def label_for(self, key: str) -> str | None:
        if not self.keys:
            return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]
        return self.keys.get(key)

    # -- lifecycle -------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self, port: int = 0) -> None:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def bodies(self, path_suffix: str = "/responses") -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path.endswith(path_suffix) and isinstance(r.body, dict)]

    # -- replies ---------------------------------------------------------
    def _usage(self, body: dict[str, Any], text: str, *, full_output: bool) -> dict[str, Any]:
        instructions = body.get("instructions") or ""
        prompt = instructions if isinstance(instructions, str) else json.dumps(instructions)
        fmt = json.dumps(body.get("text") or {}, sort_keys=True)
        prefix_tokens = count_tokens(prompt + fmt) if prompt else 0
        input_tokens = count_tokens(prompt + fmt + input_text(body))
        cache_id = (str(body.get("prompt_cache_key")), hashlib.sha256((prompt + fmt).encode()).hexdigest())
        with self._lock:
            cached = prefix_tokens if cache_id in self._cache_keys and prefix_tokens >= 1024 else 0
            self._cache_keys.add(cache_id)
        max_out = int(body.get("max_output_tokens") or 4096)
        output = max_out if full_output else min(max_out, count_tokens(text))
        reasoning = min(output // 4, max_out - count_tokens(text)) if not full_output else output // 2
        reasoning = max(0, reasoning)
        return {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input_tokens + output,
        }

    def _record(self, usage: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.usages.append(usage)
        return usage

    def tokens_billed(self) -> int:
        """Input plus output tokens over every reply: what the account would be billed."""
        with self._lock:
            return sum(int(u["input_tokens"]) + int(u["output_tokens"]) for u in self.usages)

    def response(self, body: dict[str, Any], behaviour: str) -> dict[str, Any]:
        with self._lock:
            self._counter += 1
            n = self._counter
        status, incomplete = "completed", None
        if behaviour == "invalid_json":
            text = "Here are the findings: {not json"
        elif behaviour == "incomplete":
            text = '{"findings": [{"hunk_id": "'
            status, incomplete = "incomplete", {"reason": "max_output_tokens"}
        else:
            text = self.reply(body)
        part: dict[str, Any]
        if behaviour == "refuse":
            part = {"type": "refusal", "refusal": "I can't help with that request."}
            text = ""
        else:
            part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        asked = body.get("access_programs")
        served = None if behaviour == "allow_standard" else (dict(asked) if isinstance(asked, dict) else None)
        fmt = body.get("text") or {"format": {"type": "text"}}
        return {
            "id": f"resp_{n:06d}",
            "object": "response",
            "created_at": 1_790_000_000 + n,
            "completed_at": 1_790_000_001 + n if status == "completed" else None,
            "status": status,
            "error": None,
            "incomplete_details": incomplete,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body.get("model"),
            "output": [
                {
                    "id": f"msg_{n:06d}",
                    "type": "message",
                    "role": "assistant",
                    "status": "incomplete" if incomplete else "completed",
                    "content": [part],
                }
            ],
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": 1.0,
            "text": fmt,
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": self._record(self._usage(body, text, full_output=behaviour == "incomplete")),
            "metadata": {},
            "access_programs": served,
        } | {k: body[k] for k in ("safety_identifier", "prompt_cache_key") if isinstance(body.get(k), str)}


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "deny": (
        403,
        _error(
            "Your project does not have access to this model under the requested access program.",
            "invalid_request_error",
            "model_access_denied",
            "model",
        ),
    ),
    "bad_key": (401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")),
    "rate_limit": (
        429,
        _error("Rate limit reached for requests. Please try again shortly.", "requests", "rate_limit_exceeded"),
    ),
    "quota": (
        429,
        _error(
            "You exceeded your current quota, please check your plan.",
            "insufficient_quota",
            "insufficient_quota",
        ),
    ),
    "spend_limit": (
        429,
        _error("Your project reached its spend limit.", "insufficient_quota", "project_spend_limit_exceeded"),
    ),
    "fail500": (500, _error("The server had an error processing your request.", "server_error", None)),
    "fail503": (503, _error("The engine is currently overloaded.", "server_error", None)),
    "cyber_policy": (
        400,
        _error("This request was flagged by cybersecurity safeguards.", "invalid_request_error", "cyber_policy"),
    ),
    "invalid_access_program": (
        400,
        _error(
            "The access program is not supported by this model.",
            "invalid_request_error",
            "invalid_access_program",
            "access_programs.cyber",
        ),
    ),
}


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops parallel connects (1 s SYN retry)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_fake_{id(payload) & 0xFFFF:04x}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:
        self._send(404, _error("Unknown URL", "invalid_request_error", "unknown_url"))

    def do_POST(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        auth = self.headers.get("authorization") or ""
        key = auth.removeprefix("Bearer ").strip()
        label = fake.label_for(key) if key else None
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        path = self.path.split("?", 1)[0]
        record = RecordedRequest("POST", path, headers, body, label or "<invalid>", "")
        with fake._lock:
            fake.requests.append(record)
        if path not in ("/v1/responses", "/responses"):
            self._send(404, _error(f"Unknown URL {path}", "invalid_request_error", "unknown_url"))
            return
        if label is None:
            record.behaviour = "bad_key"
            status, payload = ERRORS["bad_key"]
            self._send(status, payload)
            return
        if not isinstance(body, dict):
            self._send(400, _error("We could not parse the JSON body.", "invalid_request_error", None))
            return
        problems = self._validate(body)
        if problems:
            record.schema_errors = tuple(problems)
            with fake._lock:
                fake.schema_errors.extend(problems)
            self._send(400, _error("; ".join(problems), "invalid_request_error", "invalid_value"))
            return
        behaviour = fake._next_behaviour(label, str(body.get("model")))
        record.behaviour = behaviour
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency:
                fake._stop.wait(fake.latency)
            if behaviour == "hang":
                fake._stop.wait(fake.hang_seconds)
        finally:
            with fake._lock:
                fake.in_flight -= 1
        if behaviour in ERRORS:
            status, payload = ERRORS[behaviour]
            extra: dict[str, str] = {}
            if behaviour == "rate_limit":
                extra = {"retry-after-ms": str(fake.retry_after_ms), "retry-after": "1"}
            self._send(status, payload, extra)
            return
        if behaviour == "not_found":
            model = body.get("model")
            self._send(
                404,
                _error(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error",
                    "model_not_found",
                ),
            )
            return
        try:
            reply = fake.response(body, behaviour)
        except Exception as exc:  # a test's reply function failed: say so, loudly
            with fake._lock:
                fake.schema_errors.append(f"reply function raised {exc!r}")
            self._send(500, _error(f"fake reply function raised {exc!r}", "server_error", None))
            return
        if fake.validate_replies and fake._validators is not None:
            errors = [e.message for e in fake._validators[1].iter_errors(reply)]
            if errors:
                with fake._lock:
                    fake.schema_errors.extend(f"reply: {e}" for e in errors)
        self._send(200, reply, {"openai-model": str(body.get("model"))})

    def _validate(self, body: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        validators = self.server_fake._validators
        if validators is not None:
            problems.extend(
                f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}"
                for e in validators[0].iter_errors(body)
            )
        # access_programs is newer than the August 2026 spec: check it by hand.
        programs = body.get("access_programs")
        if programs is not None:
            if not isinstance(programs, dict) or set(programs) - {"cyber"}:
                problems.append("access_programs: only the key 'cyber' is allowed")
            elif programs.get("cyber") not in ("standard", "daybreak_blue", "daybreak_red"):
                problems.append(f"access_programs.cyber: invalid value {programs.get('cyber')!r}")
        if "model" not in body:
            problems.append("model: required")
        return problems


@contextmanager
def running_fake(**kwargs: Any) -> Iterator[FakeOpenAI]:
    """Start a fake on 127.0.0.1 (port 0 unless ``port`` is given) and stop it afterwards."""
    port = kwargs.pop("port", 0)
    fake = FakeOpenAI(**kwargs)
    fake.start(port)
    try:
        yield fake
    finally:
        fake.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
