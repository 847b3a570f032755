"""The canonical JSON form of a policy and its digest.

The digest identifies what the policy *means*, not how the file is written: comments, key order,
spelling out a default and line numbers do not change it; any change of meaning does.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Any

from ..models import Confidence, Severity
from .model import Policy

_NOT_MEANING = {"source", "digest", "line", "path_lines", "exclude_lines", "content_lines"}


def _plain(value: Any) -> Any:
    if isinstance(value, Severity | Confidence):
        return value.label
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _NOT_MEANING
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def canonical_json(policy: Policy) -> str:
    """Sorted, compact JSON of everything that affects behaviour (not source, digest, lines)."""
    return json.dumps(_plain(policy), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def policy_digest(policy: Policy) -> str:
    return hashlib.sha256(canonical_json(policy).encode()).hexdigest()


def with_digest(policy: Policy) -> Policy:
    return dataclasses.replace(policy, digest=policy_digest(policy))
