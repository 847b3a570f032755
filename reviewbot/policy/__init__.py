"""Policy: the data model, strict loading and the JSON Schema."""

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

__all__ = [
    "Budget",
    "FailOn",
    "LaneConfig",
    "Policy",
    "Price",
    "RedactionConfig",
    "ReviewSettings",
    "RouteRule",
]
