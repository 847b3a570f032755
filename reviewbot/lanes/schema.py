"""The strict JSON schema of a review's structured output, and our own check of it.

Strict mode needs ``additionalProperties: false`` and every property required
(nullable fields are ``["string", "null"]``). The model gives no line numbers:
it quotes the offending line(s), and reviewbot finds them in the hunk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SCHEMA_NAME = "security_review"
SEVERITIES = ("critical", "high", "medium", "low", "info")
CONFIDENCES = ("high", "medium", "low")

_FINDING_FIELDS: dict[str, Any] = {
    "hunk_id": {"type": "string", "description": "id of the hunk the finding is in"},
    "category": {"type": "string", "description": "short kebab-case category, e.g. sql-injection"},
    "cwe": {"type": ["string", "null"], "description": "CWE id like CWE-89, or null"},
    "severity": {"type": "string", "enum": list(SEVERITIES)},
    "confidence": {"type": "string", "enum": list(CONFIDENCES)},
    "title": {"type": "string", "description": "one line"},
    "explanation": {"type": "string", "description": "why this is exploitable"},
    "source": {"type": "string", "description": "where attacker-controlled data enters"},
    "sink": {"type": "string", "description": "where it does harm"},
    "quote": {"type": "string", "description": "the offending line(s), copied exactly, without numbers"},
    "fix": {"type": ["string", "null"], "description": "a concrete fix, or null"},
    "replacement": {
        "type": ["string", "null"],
        "description": "the complete new code of exactly the quoted lines, or null",
    },
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


def text_format() -> dict[str, Any]:
    """The ``text`` parameter of ``responses.create``."""
    return {"format": {"type": "json_schema", "name": SCHEMA_NAME, "schema": FINDINGS_SCHEMA, "strict": True}}


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


class OutputInvalid(ValueError):
    """The model's output is not JSON of the schema."""


def parse_output(text: str) -> tuple[RawFinding, ...]:
    """Validate the output text against :data:`FINDINGS_SCHEMA` by hand (no trust in 'strict')."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise OutputInvalid(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or set(data) != {"findings"} or not isinstance(data["findings"], list):
        raise OutputInvalid("expected an object with exactly one key, 'findings', holding a list")
    out: list[RawFinding] = []
    for n, item in enumerate(data["findings"]):
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
