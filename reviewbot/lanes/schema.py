"""The strict JSON schema of a review's structured output, and our own check of it.

Strict mode needs ``additionalProperties: false`` and every property required
(nullable fields are ``["string", "null"]``). The model gives no line numbers:
it quotes the offending line(s), and reviewbot finds them in the hunk.

The general lane's output also carries ``escalations``: per hunk, whether the
change is security-relevant enough to be reviewed again by the security lane
(``needed``) and why (``reason``). The list is required (strict mode) but may be
empty, and a hunk may be left out of it: leaving it out, or ``needed: false``,
never demotes anything (the routing rules are the floor). The security lane's
schema has no such field. The reason is model output: untrusted text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..models import Lane

SCHEMA_NAME = "security_review"
SEVERITIES = ("critical", "high", "medium", "low", "info")
CONFIDENCES = ("high", "medium", "low")

# Structure only: what each field holds, and its rules, is said once, in the instructions
# (reviewbot.lanes.prompt), not again in per-field descriptions sent on every call.
_FINDING_FIELDS: dict[str, Any] = {
    "hunk_id": {"type": "string"},
    "category": {"type": "string"},
    "cwe": {"type": ["string", "null"]},
    "severity": {"type": "string", "enum": list(SEVERITIES)},
    "confidence": {"type": "string", "enum": list(CONFIDENCES)},
    "title": {"type": "string"},
    "explanation": {"type": "string"},
    "source": {"type": "string"},
    "sink": {"type": "string"},
    "quote": {"type": "string"},
    "fix": {"type": ["string", "null"]},
    "replacement": {"type": ["string", "null"]},
}
# Added after the first schema: an answer without it is read as null (it offers no suggestion,
# the safe outcome). Every other key must be present, and no other key may be.
_MAY_BE_ABSENT = frozenset({"replacement"})

FINDINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["findings"],
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": list(_FINDING_FIELDS),
                "properties": _FINDING_FIELDS,
            },
        }
    },
}


_ESCALATION_FIELDS: dict[str, Any] = {
    "hunk_id": {"type": "string"},
    "needed": {"type": "boolean"},
    "reason": {"type": ["string", "null"]},
}

GENERAL_SCHEMA_NAME = "general_review"
GENERAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["findings", "escalations"],
    "properties": {
        "findings": FINDINGS_SCHEMA["properties"]["findings"],
        "escalations": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": list(_ESCALATION_FIELDS),
                "properties": _ESCALATION_FIELDS,
            },
        },
    },
}


def asks_escalation(lane: Lane) -> bool:
    """Only the general lane may escalate: a security-lane hunk is already where escalation leads."""
    return lane is Lane.GENERAL


def output_schema(lane: Lane) -> dict[str, Any]:
    return GENERAL_SCHEMA if asks_escalation(lane) else FINDINGS_SCHEMA


def text_format(lane: Lane = Lane.SECURITY) -> dict[str, Any]:
    """The ``text`` parameter of ``responses.create`` for a review on ``lane``."""
    name = GENERAL_SCHEMA_NAME if asks_escalation(lane) else SCHEMA_NAME
    return {"format": {"type": "json_schema", "name": name, "schema": output_schema(lane), "strict": True}}


@dataclass(frozen=True)
class RawFinding:
    """One finding as the model wrote it: untrusted strings, checked for shape only."""

    hunk_id: str
    category: str
    cwe: str | None
    severity: str
    confidence: str
    title: str
    explanation: str
    source: str
    sink: str
    quote: str
    fix: str | None
    replacement: str | None = None


@dataclass(frozen=True)
class RawEscalation:
    """One escalation as the model wrote it: ``reason`` is untrusted text."""

    hunk_id: str
    needed: bool
    reason: str | None


@dataclass(frozen=True)
class ParsedOutput:
    findings: tuple[RawFinding, ...]
    escalations: tuple[RawEscalation, ...] = ()


class OutputInvalid(ValueError):
    """The model's output is not JSON of the schema."""


def parse_output(text: str) -> tuple[RawFinding, ...]:
    """Validate a security-lane output (:data:`FINDINGS_SCHEMA`) and return its findings."""
    return parse_review(text, Lane.SECURITY).findings


def parse_review(text: str, lane: Lane) -> ParsedOutput:
    """Validate the output text against ``lane``'s schema by hand (no trust in 'strict')."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise OutputInvalid(f"not JSON: {exc}") from None
    escalate = asks_escalation(lane)
    keys = {"findings", "escalations"} if escalate else {"findings"}
    if escalate and isinstance(data, dict) and "escalations" not in data:
        # A server that does not enforce strict mode may leave it out: read as no escalation
        # (the routing rules are the floor, so nothing is demoted), not as a failed review.
        data = {**data, "escalations": []}
    if not isinstance(data, dict) or set(data) != keys or not all(isinstance(data[k], list) for k in keys):
        raise OutputInvalid(f"expected an object with exactly the keys {sorted(keys)}, each holding a list")
    findings = _findings(data["findings"])
    return ParsedOutput(findings, _escalations(data["escalations"]) if escalate else ())


def _escalations(items: list[Any]) -> tuple[RawEscalation, ...]:
    out: list[RawEscalation] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != set(_ESCALATION_FIELDS):
            raise OutputInvalid(f"escalations[{n}]: expected exactly the keys {sorted(_ESCALATION_FIELDS)}")
        hunk, needed, reason = item["hunk_id"], item["needed"], item["reason"]
        if not isinstance(hunk, str):
            raise OutputInvalid(f"escalations[{n}].hunk_id: wrong type")
        if not isinstance(needed, bool):
            raise OutputInvalid(f"escalations[{n}].needed: wrong type")
        if not (reason is None or isinstance(reason, str)):
            raise OutputInvalid(f"escalations[{n}].reason: wrong type")
        out.append(RawEscalation(hunk, needed, reason))
    return tuple(out)


def _findings(items: list[Any]) -> tuple[RawFinding, ...]:
    out: list[RawFinding] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not set(_FINDING_FIELDS) - _MAY_BE_ABSENT <= set(item) <= set(
            _FINDING_FIELDS
        ):
            raise OutputInvalid(f"findings[{n}]: expected exactly the keys {sorted(_FINDING_FIELDS)}")
        item = {**dict.fromkeys(_MAY_BE_ABSENT), **item}
        for key, spec in _FINDING_FIELDS.items():
            value = item[key]
            nullable = isinstance(spec["type"], list)
            if not (isinstance(value, str) or (nullable and value is None)):
                raise OutputInvalid(f"findings[{n}].{key}: wrong type")
            if "enum" in spec and value not in spec["enum"]:
                raise OutputInvalid(f"findings[{n}].{key}: not one of {spec['enum']}")
        out.append(RawFinding(**item))
    return tuple(out)
