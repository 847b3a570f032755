"""Environment overrides: SECURITY_PATHS, MODEL_CYBER, MODEL_GENERAL; empty means unset."""

from __future__ import annotations

import pytest

from reviewbot.errors import PolicyError
from reviewbot.models import Lane
from reviewbot.policy import apply_env, parse_policy, policy_digest

BASE = parse_policy("version: 1\nroutes:\n  - {name: docs, lane: skip, paths: ['docs/**']}\n", source="p.yml")


def test_no_variables_returns_the_policy_unchanged() -> None:
    assert apply_env(BASE, {}) is BASE
    assert apply_env(BASE, {"SECURITY_PATHS": "", "MODEL_CYBER": "  ", "MODEL_GENERAL": ","}) is BASE


def test_security_paths_become_one_rule_ahead_of_the_policy_routes() -> None:
    policy = apply_env(BASE, {"SECURITY_PATHS": " src/core/** , ,*.cfg,docs/threat-model.md "})
    first, second = policy.routes
    assert first.name == "SECURITY_PATHS" and first.origin == "SECURITY_PATHS"
    assert first.lane is Lane.SECURITY and first.line is None
    assert first.paths == ("src/core/**", "*.cfg", "docs/threat-model.md")
    assert second == BASE.routes[0]
    assert policy.source == BASE.source
    assert policy.digest == policy_digest(policy) != BASE.digest


def test_model_overrides_replace_the_lanes_models_only() -> None:
    policy = apply_env(
        BASE, {"MODEL_CYBER": "gpt-5.6-cyber, gpt-5.5-cyber-preview", "MODEL_GENERAL": "gpt-5.5-mini"}
    )
    security, general = policy.lane(Lane.SECURITY), policy.lane(Lane.GENERAL)
    assert security.models == ("gpt-5.6-cyber", "gpt-5.5-cyber-preview")
    assert security.access_program == BASE.lane(Lane.SECURITY).access_program
    assert security.fallback is Lane.GENERAL
    assert general.models == ("gpt-5.5-mini",)
    assert policy.routes == BASE.routes


def test_only_one_model_variable_touches_only_its_lane() -> None:
    policy = apply_env(BASE, {"MODEL_GENERAL": "gpt-5.5-mini"})
    assert policy.lane(Lane.SECURITY) == BASE.lane(Lane.SECURITY)


@pytest.mark.parametrize(
    ("env", "message", "hint"),
    [
        (
            {"SECURITY_PATHS": "ok/**,[z-a]"},
            "environment variable SECURITY_PATHS: invalid glob '[z-a]'",
            "comma-separated",
        ),
        ({"SECURITY_PATHS": "src\\"}, "environment variable SECURITY_PATHS: invalid glob", None),
        ({"SECURITY_PATHS": "[abc"}, "SECURITY_PATHS: invalid glob '[abc': matches nothing", None),
        (
            {"MODEL_CYBER": "gpt-5.5-cyber"},
            "environment variable MODEL_CYBER: 'gpt-5.5-cyber' is not a model id",
            "gpt-5.5-cyber-preview",
        ),
        ({"MODEL_GENERAL": "gpt 5"}, "environment variable MODEL_GENERAL: 'gpt 5' is not a model id", None),
    ],
)
def test_bad_variables_are_policy_errors_naming_the_variable(
    env: dict[str, str], message: str, hint: str | None
) -> None:
    with pytest.raises(PolicyError) as info:
        apply_env(BASE, env)
    assert message in info.value.message
    if hint:
        assert info.value.hint is not None and hint in info.value.hint


def test_applying_twice_is_idempotent() -> None:
    env = {"SECURITY_PATHS": "a/**", "MODEL_CYBER": "gpt-5.6-cyber"}
    once = apply_env(BASE, env)
    assert apply_env(once, env) == once
    assert [r.name for r in apply_env(once, {"SECURITY_PATHS": "b/**"}).routes] == ["SECURITY_PATHS", "docs"]
