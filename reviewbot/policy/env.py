"""Environment overrides of a policy: SECURITY_PATHS, MODEL_CYBER, MODEL_GENERAL (DESIGN.md §3).

An empty (or blank) value counts as unset: GitHub passes empty strings for unset inputs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from ..errors import PolicyError
from ..models import Lane
from .digest import with_digest
from .globs import glob_problem
from .model import Policy, RouteRule
from .schema import MODEL_ID_PATTERN, NOT_MODEL_IDS

SECURITY_PATHS = "SECURITY_PATHS"
MODEL_CYBER = "MODEL_CYBER"
MODEL_GENERAL = "MODEL_GENERAL"
ENV_VARS = (SECURITY_PATHS, MODEL_CYBER, MODEL_GENERAL)


def _items(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated values of ``name``, stripped, empties dropped; () when unset or blank."""
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def security_paths(env: Mapping[str, str]) -> tuple[str, ...]:
    """The validated globs of SECURITY_PATHS. Raises :class:`PolicyError` naming the variable."""
    globs = _items(env, SECURITY_PATHS)
    for glob in globs:
        problem = glob_problem(glob)
        if problem:
            raise PolicyError(
                f"environment variable {SECURITY_PATHS}: invalid glob {glob!r}: {problem}",
                hint="SECURITY_PATHS is a comma-separated list of gitignore-style patterns",
            )
    return globs


def model_ids(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """The validated model ids of ``name`` (MODEL_CYBER or MODEL_GENERAL)."""
    models = _items(env, name)
    for model in models:
        if model in NOT_MODEL_IDS:
            raise PolicyError(
                f"environment variable {name}: {model!r} is not a model id", hint=NOT_MODEL_IDS[model]
            )
        if not re.search(MODEL_ID_PATTERN, model):
            raise PolicyError(
                f"environment variable {name}: {model!r} is not a model id",
                hint="a comma-separated list of model ids, e.g. gpt-5.6-cyber,gpt-5.5-cyber-preview",
            )
    return models


def apply_env(policy: Policy, env: Mapping[str, str]) -> Policy:
    """The policy with SECURITY_PATHS, MODEL_CYBER and MODEL_GENERAL applied; digest recomputed.

    SECURITY_PATHS becomes one security route named "SECURITY_PATHS" ahead of the policy's routes.
    MODEL_CYBER replaces the security lane's models, MODEL_GENERAL the general lane's.
    """
    globs = security_paths(env)
    overrides = {Lane.SECURITY: model_ids(env, MODEL_CYBER), Lane.GENERAL: model_ids(env, MODEL_GENERAL)}
    if not globs and not any(overrides.values()):
        return policy
    # Idempotent: a policy that already carries a SECURITY_PATHS rule gets it replaced, not doubled.
    routes = tuple(r for r in policy.routes if r.origin != SECURITY_PATHS) if globs else policy.routes
    if globs:
        env_rule = RouteRule(name=SECURITY_PATHS, lane=Lane.SECURITY, paths=globs, origin=SECURITY_PATHS)
        routes = (env_rule, *routes)
    lanes = tuple(
        dataclasses.replace(lane, models=overrides[lane.name]) if overrides.get(lane.name) else lane
        for lane in policy.lanes
    )
    return with_digest(dataclasses.replace(policy, routes=routes, lanes=lanes))
