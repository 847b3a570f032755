"""Tamper-evident audit log (DESIGN.md §8).

JSON Lines, one event per line. Each line carries ``seq``, ``ts``, ``event``, the
event's fields, ``prev`` (the hash of the previous line, or 64 zeros) and ``hash``
(SHA-256 of the canonical JSON of the line without ``hash``). Editing, removing,
inserting or reordering a line breaks the chain, and :func:`verify` says where.

Every string written passes through the ``scrub`` function given to the log
(the redactor, once it is wired), so no secret reaches the file.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import AuditError

AUDIT_VERSION = 1
GENESIS = "0" * 64


_RESERVED = ("seq", "ts", "event", "prev", "hash")
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(obj: Mapping[str, Any]) -> str:
    return _ENCODER.encode(obj)


def _digest(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


def _scrub_value(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {str(k): _scrub_value(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, scrub) for v in value]
    return value


END_EVENT = "run_end"


class AuditLog:
    """Append-only writer. ``sink`` None keeps events in memory only (tests, dry runs), unless
    ``keep`` is False: then nothing asked for the log (``reviewbot diff`` without ``--audit``)
    and events are only checked (reserved names, nothing after ``run_end``), never written.

    ``run_end`` is always the last event: :func:`verify` only accepts a log that ends with
    it, so cutting lines from the end shows. A caller with work after the review (the
    Action's publishing) builds the log with ``defer_end=True``: the ``run_end`` the review
    appends is held back, and :meth:`end` writes it after the caller's own events.
    """

    def __init__(
        self,
        sink: IO[str] | None = None,
        *,
        scrub: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
        defer_end: bool = False,
        keep: bool = True,
    ) -> None:
        self._sink = sink
        self._write_lines = sink is not None or keep
        self._scrub = scrub or (lambda s: s)
        self._clock = clock
        self._prev = GENESIS
        self._seq = 0
        self._defer_end = defer_end
        self._held_end: dict[str, Any] | None = None
        self._ended = False
        self.lines: list[str] = []

    def set_scrub(self, scrub: Callable[[str], str]) -> None:
        self._scrub = scrub

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        if self._ended:
            raise ValueError(f"audit event {event!r} after {END_EVENT}")
        if event == END_EVENT and self._defer_end:
            if self._held_end is not None:
                raise ValueError(f"a second {END_EVENT}")
            self._held_end = dict(fields)
            return {"event": event, **fields}
        return self._write(event, fields)

    def end(self, **extra: Any) -> None:
        """Write the held ``run_end`` (with ``extra`` fields, e.g. what the publisher did)."""
        if self._held_end is None:
            raise ValueError(f"no {END_EVENT} to write")
        fields, self._held_end, self._defer_end = {**self._held_end, **extra}, None, False
        self._write(END_EVENT, fields)

    @property
    def holding_end(self) -> bool:
        return self._held_end is not None

    def _write(self, event: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        if not self._write_lines:
            return self._check_only(event, fields)
        scrub = self._scrub
        record: dict[str, Any] = {
            k: scrub(v) if type(v) is str else _scrub_value(v, scrub) for k, v in fields.items()
        }
        for reserved in _RESERVED:
            if reserved in record:
                raise ValueError(f"audit field name {reserved!r} is reserved")
        record.update(
            seq=self._seq,
            ts=round(self._clock(), 3),
            event=event,
            prev=self._prev,
        )
        text = canonical(record)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        line = _with_hash(record, text, digest)
        record["hash"] = digest
        self.lines.append(line)
        if self._sink is not None:
            self._sink.write(line + "\n")
            self._sink.flush()
        self._prev = record["hash"]
        self._seq += 1
        self._ended = event == END_EVENT
        return record

    def _check_only(self, event: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        for reserved in _RESERVED:
            if reserved in fields:
                raise ValueError(f"audit field name {reserved!r} is reserved")
        record = {**fields, "seq": self._seq, "event": event}
        self._seq += 1
        self._ended = event == END_EVENT
        return record


def _with_hash(record: Mapping[str, Any], text: str, digest: str) -> str:
    """``canonical(record | {"hash": digest})`` given ``text == canonical(record)``, without encoding it all again.

    The keys are sorted, so the ``hash`` pair goes right after the pairs of the keys before it.
    When those hold only scalars, each of their pairs ends where the text next has ``,"``: a
    quote inside a JSON string is always escaped, so ``,"`` occurs nowhere else. Otherwise the
    part before ``hash`` is encoded once more to find the cut.
    """
    pair = f'"hash":"{digest}"'
    head = [v for k, v in record.items() if k < "hash"]
    if not head:
        return "{" + pair + ("," + text[1:] if len(text) > 2 else "}")
    if all(v is None or isinstance(v, str | int | float) for v in head):
        cut = 0
        for _ in head:
            cut = text.find(',"', cut + 1)
            if cut == -1:
                return text[:-1] + "," + pair + "}"
        return text[:cut] + "," + pair + text[cut:]
    before = canonical({k: v for k, v in record.items() if k < "hash"})
    rest = text[len(before) - 1 :]  # "," and the pairs after hash, then "}"; or only "}"
    return before[:-1] + "," + pair + rest


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    error: str | None = None
    line: int | None = None  # 1-based line where the chain breaks


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditError(f"cannot read audit file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise AuditError(f"audit file {path} is not UTF-8 text") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, None, f"not JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, obj, ""


def verify(path: Path) -> VerifyResult:
    prev = GENESIS
    count = 0
    ended = False
    for number, record, problem in iter_records(path):
        if record is None:
            return VerifyResult(False, count, problem, number)
        claimed = record.pop("hash", None)
        if record.get("seq") != count:
            return VerifyResult(False, count, f"expected seq {count}, found {record.get('seq')!r}", number)
        if record.get("prev") != prev:
            return VerifyResult(False, count, "prev does not match the hash of the line before", number)
        if claimed != _digest(record):
            return VerifyResult(False, count, "hash does not match the line's content", number)
        prev = claimed
        count += 1
        ended = record.get("event") == END_EVENT
    if count == 0:
        return VerifyResult(False, 0, "the audit file is empty", None)
    if not ended:
        # The chain proves that no line was changed, removed or moved; only a run_end as the
        # last event proves that lines were not cut from the end.
        return VerifyResult(
            False, count, "the chain is intact but does not end with a run_end event: the log was cut "
            "short, or the run stopped before its end", None
        )
    return VerifyResult(True, count)
