"""The JSON Schema is generated from the validator's key table, and the two agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reviewbot.errors import PolicyError
from reviewbot.policy import parse_policy, policy_schema
from reviewbot.policy.model import Budget, FailOn, ReviewSettings
from reviewbot.policy.schema import spec_for
from tests.test_policy_load import BAD

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())

# Bad inputs the schema cannot see: YAML-level problems, pathspec/regex checks, rules across keys.
VALIDATOR_ONLY = {
    "tab",  # not YAML at all
    "two-documents",
    "unclosed-flow",
    "duplicate-key",  # yaml.safe_load silently keeps the last one
    "merge-key",  # yaml.safe_load merges; we refuse '<<'
    "glob-range",
    "glob-backslash",
    "glob-unclosed",
    "glob-space",
    "glob-comment",
    "exclude-negated",
    "route-negated",
    "route-duplicate",
    "reviews-nothing",
    "fallback-self",
    "regex",
    "route-content-regex",
    "route-content-empty-match",
    "reserve-nan",
}
BY_ID = {param.id: param.values[0] for param in BAD}


def schema_accepts(text: str) -> bool:
    return VALIDATOR.is_valid(yaml.safe_load(text))


def validator_accepts(text: str) -> bool:
    try:
        parse_policy(text, source="p.yml")
    except PolicyError:
        return False
    return True


def test_schema_is_valid_draft_2020_12() -> None:
    schema = policy_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_is_deterministic_json() -> None:
    assert json.dumps(policy_schema(), sort_keys=True) == json.dumps(policy_schema(), sort_keys=True)


def test_shipped_default_policy_validates_against_the_schema() -> None:
    data = yaml.safe_load((ROOT / "policies" / "default.yml").read_text())
    errors = sorted(VALIDATOR.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [e.message for e in errors]


def test_every_bad_case_is_classified() -> None:
    assert set(BY_ID) >= VALIDATOR_ONLY, VALIDATOR_ONLY - set(BY_ID)


@pytest.mark.parametrize("case", sorted(set(BY_ID) - VALIDATOR_ONLY))
def test_schema_rejects_what_the_validator_rejects(case: str) -> None:
    text = BY_ID[case]
    assert not validator_accepts(text)
    assert not schema_accepts(text), f"schema accepts {case}: {text!r}"


@pytest.mark.parametrize("case", sorted(VALIDATOR_ONLY - {"tab", "two-documents", "unclosed-flow"}))
def test_validator_only_checks_are_really_beyond_the_schema(case: str) -> None:
    # Documents the gap honestly: if the schema learns to reject one of these, move it out.
    text = BY_ID[case]
    assert not validator_accepts(text)
    assert schema_accepts(text), case


GOOD = [
    "version: 1\n",
    "version: 1\nbudget: {tokens_per_pr: 5}\n",
    "version: 1.0\n",  # JSON Schema counts 1.0 as the integer 1; so does the validator
    "version: 1\nlanes: {security: {access_program: null, fallback: null}}\n",
    "version: 1\nroutes: [{name: a, lane: skip, paths: ['docs/**', '!docs/security.md']}]\n",
    "version: 1\nfail_on: {severity: none}\nreview: {timeout_seconds: 0.5, max_retries: 0}\n",
    "version: 1\nbudget: {reserve_for_security: 0, reserve_for_escalation: 1}\n"
    "prices: {m-1: {input: 0, output: 0, cached_input: null}}\n",
    "version: 1\nredaction: {extra_patterns: [{name: acme-1, regex: 'a+'}], allow: ['(']}\n",
]


@pytest.mark.parametrize("text", GOOD)
def test_both_accept_good_policies(text: str) -> None:
    assert validator_accepts(text)
    assert schema_accepts(text)


@pytest.mark.parametrize(
    ("dotted", "default"),
    [
        ("budget.tokens_per_pr", Budget().tokens_per_pr),
        ("budget.reserve_for_security", Budget().reserve_for_security),
        ("budget.reserve_for_escalation", Budget().reserve_for_escalation),
        ("fail_on.severity", FailOn().severity.label if FailOn().severity else "none"),
        ("review.max_retries", ReviewSettings().max_retries),
        ("default_lane", "general"),
    ],
)
def test_schema_defaults_are_the_models_defaults(dotted: str, default: Any) -> None:
    node: dict[str, Any] = policy_schema()
    for part in dotted.split("."):
        node = node["properties"][part]
    assert node["default"] == default
    assert spec_for(dotted).default_value() == default
