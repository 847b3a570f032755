"""Strict policy loading: YAML text -> validated :class:`~reviewbot.policy.model.Policy`.

Fails closed: an empty file, a file without ``version``, an unknown key, a wrong type, a bad glob
or an unknown lane is a :class:`~reviewbot.errors.PolicyError` (exit code 2) whose message names
the file, the line and the key. Line numbers come from the marks of ``yaml.compose`` nodes.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import PolicyError
from ..models import Confidence, Lane, Severity
from .digest import with_digest
from .env import apply_env
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
from .schema import MODEL_LANES, NO_SEVERITY, POLICY_SPEC
from .spec import Record, Walk, item_lines

REPO_POLICY = Path(".github") / "reviewbot.yml"
DEFAULT_SOURCE = "<default>"
MAX_POLICY_BYTES = 1_000_000


def default_policy_text() -> str:
    """The shipped default policy (``reviewbot/data/default.yml``, a copy of ``policies/default.yml``)."""
    return importlib.resources.files("reviewbot").joinpath("data", "default.yml").read_text("utf-8")


def load_policy(path: Path | None = None, *, cwd: Path, env: Mapping[str, str]) -> Policy:
    """Load ``path``; else ``<cwd>/.github/reviewbot.yml``; else the shipped default. Then apply ``env``.

    Raises :class:`PolicyError` for an unreadable or invalid policy or a bad environment override.
    """
    if path is not None:
        text = _read(path if path.is_absolute() else cwd / path, str(path))
        source = str(path)
    elif (cwd / REPO_POLICY).is_file():
        source = REPO_POLICY.as_posix()
        text = _read(cwd / REPO_POLICY, source)
    else:
        misnamed = cwd / REPO_POLICY.with_suffix(".yaml")
        if misnamed.exists():
            raise PolicyError(
                f"{REPO_POLICY.with_suffix('.yaml').as_posix()}: found, but the policy file is "
                f"{REPO_POLICY.as_posix()}",
                hint="rename it (reviewbot would otherwise use the shipped default policy)",
            )
        source = DEFAULT_SOURCE
        text = default_policy_text()
    return apply_env(parse_policy(text, source=source), env)


def parse_policy(text: str, *, source: str) -> Policy:
    """Validate policy ``text`` (no environment overrides). ``source`` names it in messages."""
    node = _compose(text, source)
    if node is None:
        raise PolicyError(
            f"{source}:1: the policy is empty",
            hint="an empty policy would review nothing; start from policies/default.yml or write at least `version: 1`",
        )
    walk = Walk(source)
    if not isinstance(node, yaml.MappingNode):
        walk.fail(node, "", "a policy must be a mapping of keys (e.g. `version: 1`)")
    _check_version_first(node, walk)
    record = POLICY_SPEC.check(node, "", walk)
    _check_meaning(record, walk)
    return with_digest(build_policy(record, source))


def _read(path: Path, source: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{source}: cannot read the policy: {exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{source}: the policy is larger than {MAX_POLICY_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError(f"{source}:{line}: the policy is not UTF-8 text") from None


# libyaml's parser when PyYAML has it (the default policy composes ~4x faster); an error is
# reported by the pure-Python parser, whose messages (a tab named as '\t') the hints rely on.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, source: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        pass
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        hint = None
        if "\t" in problem or "'\\t'" in problem:
            hint = "indent with spaces: YAML does not allow tabs for indentation"
        problem = " ".join(problem.replace("\t", "\\t").split())
        raise PolicyError(f"{source}:{line}: YAML syntax error: {problem}", hint=hint) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark
        problem = " ".join(str(exc).split())
        raise PolicyError(f"{source}: YAML error: {problem}") from None


def _check_version_first(node: yaml.MappingNode, walk: Walk) -> None:
    """A missing or foreign ``version`` is reported before any other key (fail closed)."""
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "version":
            POLICY_SPEC.props["version"].check(value_node, "version", walk)
            return
    walk.fail(node, "version", "required key is missing", hint="put `version: 1` at the top of the policy")


def _check_meaning(record: Record, walk: Walk) -> None:
    """Rules across keys, which JSON Schema cannot express."""
    lanes: Record = record["lanes"]
    for name in MODEL_LANES:
        lane = lanes[name]
        if lane["fallback"] == name:
            line = lane.lines["fallback"] if isinstance(lane, Record) else lanes.line
            walk.fail(line, f"lanes.{name}.fallback", f"lane '{name}' cannot fall back to itself")
    seen: dict[str, int] = {}
    for i, route in enumerate(record["routes"]):
        name = route["name"]
        if name in seen:
            walk.fail(
                route.lines["name"],
                f"routes[{i}].name",
                f"duplicate route name '{name}' (first used on line {seen[name]})",
            )
        seen[name] = route.lines["name"]
        _check_route(route, i, walk)
    exclude = record["exclude"]
    if exclude and all(p.startswith("!") for p in exclude):
        walk.fail(record.lines["exclude"], "exclude", "every pattern is negated: matches nothing")
    reviews = any(route["lane"] != Lane.SKIP.value for route in record["routes"])
    if record["default_lane"] == Lane.SKIP.value and not reviews:
        walk.fail(
            record.lines["default_lane"],
            "default_lane",
            "'skip' with no route to a security or general lane: this policy reviews nothing",
            hint="add routes to the security or general lane, or set default_lane: general",
        )


def _check_route(route: Record, i: int, walk: Walk) -> None:
    paths, content = route["paths"], route["content"]
    if not paths and not content:
        walk.fail(
            route.lines.get("paths", route.line),
            f"routes[{i}].paths",
            "a route needs `paths` or `content`",
            hint="list gitignore-style patterns under paths:, or regexes under content:",
        )
    if paths and all(p.startswith("!") for p in paths):
        walk.fail(route.lines["paths"], f"routes[{i}].paths", "every pattern is negated: matches nothing")
    if content and route["lane"] != Lane.SECURITY.value:
        walk.fail(
            route.lines["lane"],
            f"routes[{i}].lane",
            "a route with `content` must send hunks to the security lane",
            hint="content rules add security review; to skip paths, use a route with paths only",
        )
    for j, (regex, line) in enumerate(zip(content, item_lines(content), strict=True)):
        if re.search(regex, "") is not None:
            walk.fail(
                line or route.lines["content"],
                f"routes[{i}].content[{j}]",
                f"{regex!r} matches an empty line, so it would match every hunk",
            )


def build_policy(record: Mapping[str, Any], source: str) -> Policy:
    """Turn a validated record (every default filled in) into the frozen :class:`Policy`."""
    lanes = tuple(_lane(name, record["lanes"][name]) for name in MODEL_LANES)
    routes = tuple(
        RouteRule(
            name=r["name"],
            lane=Lane(r["lane"]),
            paths=tuple(r["paths"]),
            line=r.line if isinstance(r, Record) else None,
            path_lines=item_lines(r["paths"]),
            content=tuple(r.get("content", ())),
            content_lines=item_lines(r.get("content", ())),
        )
        for r in record["routes"]
    )
    budget, fail_on, redaction, review = (
        record["budget"],
        record["fail_on"],
        record["redaction"],
        record["review"],
    )
    return Policy(
        version=record["version"],
        lanes=lanes,
        routes=routes,
        default_lane=Lane(record["default_lane"]),
        exclude=tuple(record["exclude"]),
        exclude_lines=item_lines(record["exclude"]),
        budget=Budget(
            tokens_per_pr=budget["tokens_per_pr"],
            tokens_per_run=budget["tokens_per_run"],
            max_output_tokens_per_call=budget["max_output_tokens_per_call"],
            reserve_for_security=float(budget["reserve_for_security"]),
            reserve_for_escalation=float(budget["reserve_for_escalation"]),
            max_hunk_tokens=budget["max_hunk_tokens"],
        ),
        fail_on=FailOn(
            severity=None if fail_on["severity"] == NO_SEVERITY else Severity.parse(fail_on["severity"]),
            incomplete=fail_on["incomplete"],
        ),
        redaction=RedactionConfig(
            extra_patterns=tuple((p["name"], p["regex"]) for p in redaction["extra_patterns"]),
            allow=tuple(redaction["allow"]),
            pii=redaction["pii"],
        ),
        review=ReviewSettings(
            max_parallel=review["max_parallel"],
            min_confidence=Confidence.parse(review["min_confidence"]),
            max_safeguard_hits=review["max_safeguard_hits"],
            timeout_seconds=float(review["timeout_seconds"]),
            max_retries=review["max_retries"],
        ),
        prices=tuple(
            (model, Price(p["input"], p["output"], p["cached_input"])) for model, p in sorted(record["prices"].items())
        ),
        source=source,
    )


def _lane(name: str, cfg: Mapping[str, Any]) -> LaneConfig:
    fallback = cfg["fallback"]
    return LaneConfig(
        name=Lane(name),
        models=tuple(cfg["models"]),
        access_program=cfg["access_program"],
        fallback=Lane(fallback) if fallback else None,
    )
