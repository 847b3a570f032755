"""Policy: the data model, strict loading and the JSON Schema."""

from .digest import canonical_json, policy_digest
from .env import apply_env
from .load import default_policy_text, load_policy, parse_policy
from .model import (
    Budget,
    FailOn,
    LaneConfig,
    Policy,
    Price,
    RedactionConfig,
    ReviewSettings,
    RouteRule,
)
from .schema import policy_schema

__all__ = [
    "Budget",
    "FailOn",
    "LaneConfig",
    "Policy",
    "Price",
    "RedactionConfig",
    "ReviewSettings",
    "RouteRule",
    "apply_env",
    "canonical_json",
    "default_policy_text",
    "load_policy",
    "parse_policy",
    "policy_digest",
    "policy_schema",
]
