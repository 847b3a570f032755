"""The policy's key table: every key, its type, its default and its description, in one place.

:data:`POLICY_SPEC` is what :mod:`reviewbot.policy.load` validates a file against, and
:func:`policy_schema` renders the same table as JSON Schema (draft 2020-12) for editors and CI.
Defaults are read from the dataclasses of :mod:`reviewbot.policy.model`, so a default changes in
one place. To add a key (e.g. ``content:`` regexes on a route), add one entry here and read it in
:func:`reviewbot.policy.load.build_policy`.
"""

from __future__ import annotations

from typing import Any

from ..models import Confidence, Lane, Severity
from .model import DEFAULT_LANES, Budget, FailOn, LaneConfig, RedactionConfig, ReviewSettings
from .spec import (
    Bool,
    Const,
    Enum,
    Glob,
    Int,
    List,
    Map,
    Nullable,
    Number,
    Object,
    Regex,
    Spec,
    Str,
)

MODEL_LANES = (Lane.SECURITY.value, Lane.GENERAL.value)  # lanes that call a model
ROUTE_LANES = (*MODEL_LANES, Lane.SKIP.value)
ACCESS_PROGRAMS = ("standard", "daybreak_blue", "daybreak_red")
SEVERITIES = tuple(s.label for s in sorted(Severity, reverse=True))
NO_SEVERITY = "none"
CONFIDENCES = tuple(c.label for c in Confidence)

# Model ids people write that are not real ids, and what they meant (DESIGN.md §4).
NOT_MODEL_IDS = {
    "gpt-5.5-cyber": "did you mean gpt-5.5-cyber-preview? ('gpt-5.5-cyber' is not a model id; "
    "its successor is gpt-5.6-cyber)",
}
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"


def model_id_spec() -> Str:
    return Str(
        description="A model id, e.g. gpt-5.5 or gpt-5.6-cyber.",
        pattern=MODEL_ID_PATTERN,
        forbidden=NOT_MODEL_IDS,
        forbidden_reason="is not a model id",
    )


def _lane_spec(cfg: LaneConfig) -> Object:
    return Object(
        description=f"The {cfg.name.value} lane: which models serve it, in order of preference.",
        props={
            "models": List(
                model_id_spec(),
                min_items=1,
                default=cfg.models,
                description="Model ids tried in order; the first one the probe can reach serves the lane.",
            ),
            "access_program": Nullable(
                Enum(ACCESS_PROGRAMS),
                default=cfg.access_program,
                description="Sent as access_programs={'cyber': ...}. It selects a tier; it never grants "
                "access. null: let the API choose.",
            ),
            "fallback": Nullable(
                Enum(MODEL_LANES),
                default=cfg.fallback.value if cfg.fallback else None,
                description="Lane whose model serves this one when none of its own is reachable "
                "(always stated in the report).",
            ),
        },
    )


_LANES = {cfg.name.value: cfg for cfg in DEFAULT_LANES}
_BUDGET = Budget()
_FAIL_ON = FailOn()
_REDACTION = RedactionConfig()
_REVIEW = ReviewSettings()

ROUTE_SPEC = Object(
    description="A route: hunks whose path matches one of `paths` go to `lane`. First match wins. "
    "A route with `content` is a content rule: a hunk with an added or removed line that one of its "
    "regexes finds (in code, not comments or strings, where the language allows) goes to `lane` "
    "(security), wherever its path would send it; `paths` then only scope the rule. Excludes and "
    "skip routes still win.",
    props={
        "name": Str(description="Shown in explanations (`reviewbot route`) and in the audit log."),
        "lane": Enum(ROUTE_LANES, description="security, general, or skip (not reviewed, reported)."),
        "paths": List(
            Glob("A gitignore-style pattern; '!pattern' excludes within this route."),
            default=(),
            description="gitignore-style patterns (the last matching pattern of the list decides). "
            "Required unless the route has `content`.",
        ),
        "content": List(
            Regex(
                "A Python regular expression searched in each added and removed line, with comments "
                'and string literals masked (a literal that starts with an SQL verb reads "SQL").'
            ),
            default=(),
            description="Content rule regexes; a hunk matching one goes to the security lane.",
        ),
    },
    extra_schema={
        "anyOf": [
            {"required": ["paths"], "properties": {"paths": {"minItems": 1}}},
            {"required": ["content"], "properties": {"content": {"minItems": 1}}},
        ],
        "if": {"required": ["content"], "properties": {"content": {"minItems": 1}}},
        "then": {"properties": {"lane": {"const": Lane.SECURITY.value}}},
    },
)

POLICY_SPEC = Object(
    description="reviewbot policy. A key left out takes its default.",
    props={
        "version": Const(1, description="Policy format version. Must be 1."),
        "lanes": Object(
            description="Model lanes. A lane or key left out keeps its default.",
            props={name: _lane_spec(cfg) for name, cfg in _LANES.items()},
        ),
        "routes": List(
            ROUTE_SPEC,
            default=(),
            description="Ordered routes; the first route with a matching pattern decides the lane. "
            "SECURITY_PATHS adds a security route ahead of these.",
        ),
        "default_lane": Enum(ROUTE_LANES, default=Lane.GENERAL.value, description="Lane of a path no route matches."),
        "exclude": List(
            Glob("A gitignore-style pattern."),
            default=(),
            description="Paths never reviewed (checked before routes); each shows up as skipped.",
        ),
        "budget": Object(
            description="Token budget: tokens_per_run caps one run, tokens_per_pr the PR across its runs.",
            props={
                "tokens_per_pr": Int(
                    minimum=1, default=_BUDGET.tokens_per_pr, description="Cap for the PR across runs."
                ),
                "tokens_per_run": Int(minimum=1, default=_BUDGET.tokens_per_run, description="Cap for one run."),
                "max_output_tokens_per_call": Int(
                    minimum=16,
                    default=_BUDGET.max_output_tokens_per_call,
                    description="max_output_tokens of each model call (the API's minimum is 16).",
                ),
                "reserve_for_security": Number(
                    minimum=0.0,
                    maximum=1.0,
                    default=_BUDGET.reserve_for_security,
                    description="Accepted, no effect yet: security hunks are planned first against the whole budget.",
                ),
                "reserve_for_escalation": Number(
                    minimum=0.0,
                    maximum=1.0,
                    default=_BUDGET.reserve_for_escalation,
                    description="Share of the run budget the general lane leaves for the hunks it escalates "
                    "to the security lane; an escalation that does not fit is reported as over-budget.",
                ),
                "max_hunk_tokens": Int(
                    minimum=1,
                    default=_BUDGET.max_hunk_tokens,
                    description="A larger hunk is clipped at line boundaries.",
                ),
            },
        ),
        "fail_on": Object(
            description="When the run's exit code signals failure.",
            props={
                "severity": Enum(
                    (*SEVERITIES, NO_SEVERITY),
                    default=_FAIL_ON.severity.label if _FAIL_ON.severity else NO_SEVERITY,
                    description="Exit 1 on a finding at or above this severity; 'none' never fails.",
                ),
                "incomplete": Bool(default=_FAIL_ON.incomplete, description="Exit 3 when the review is incomplete."),
            },
        ),
        "redaction": Object(
            description="Secrets and PII masked before any model sees the diff.",
            props={
                "extra_patterns": List(
                    Object(
                        props={
                            "name": Str(
                                pattern=r"^[a-z0-9][a-z0-9_.-]*$",
                                description="Kind shown in placeholders: [REDACTED:<name>:N].",
                            ),
                            "regex": Regex("Python regular expression; compiled when the policy loads."),
                        }
                    ),
                    default=(),
                    description="Extra secret patterns, added to the built-in ones.",
                ),
                "allow": List(
                    Str(),
                    default=_REDACTION.allow,
                    description="Regexes or exact strings that are never treated as secrets.",
                ),
                "pii": Bool(default=_REDACTION.pii, description="Also mask e-mail addresses and the like."),
            },
        ),
        "review": Object(
            description="How the reviewer runs.",
            props={
                "max_parallel": Int(minimum=1, default=_REVIEW.max_parallel),
                "min_confidence": Enum(
                    CONFIDENCES,
                    default=_REVIEW.min_confidence.label,
                    description="Findings below are dropped (and counted).",
                ),
                "max_safeguard_hits": Int(
                    minimum=1,
                    default=_REVIEW.max_safeguard_hits,
                    description="After this many cyber_policy refusals, stop sending security content.",
                ),
                "timeout_seconds": Number(exclusive_minimum=0.0, default=_REVIEW.timeout_seconds),
                "max_retries": Int(minimum=0, default=_REVIEW.max_retries),
            },
        ),
        "prices": Map(
            keys=model_id_spec(),
            values=Object(
                description="USD per one million tokens.",
                props={
                    "input": Number(minimum=0.0),
                    "output": Number(minimum=0.0),
                    "cached_input": Nullable(Number(minimum=0.0)),
                },
            ),
            description="Prices by model id, for the cost line of the report.",
        ),
    },
)


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, generated from :data:`POLICY_SPEC`."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reviewbot policy",
    }
    schema.update(POLICY_SPEC.json_schema())
    return schema


def spec_for(dotted: str) -> Spec:
    """The spec of a dotted key such as ``budget.tokens_per_pr`` (for tests and tooling)."""
    spec: Spec = POLICY_SPEC
    for part in dotted.split("."):
        if not isinstance(spec, Object):
            raise KeyError(dotted)
        spec = spec.props[part]
    return spec
