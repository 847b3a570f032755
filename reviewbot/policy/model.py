"""The policy's data model (DESIGN.md §3): frozen, validated on load by ``reviewbot.policy.load``.

Defaults here are the defaults of a key left out of the YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Confidence, Lane, Severity


@dataclass(frozen=True)
class LaneConfig:
    name: Lane
    models: tuple[str, ...]
    access_program: str | None = None  # e.g. "daybreak_red": sent as access_programs={"cyber": ...}
    fallback: Lane | None = None  # lane whose model serves this one when none of ours is reachable


@dataclass(frozen=True)
class RouteRule:
    name: str
    lane: Lane
    paths: tuple[str, ...] = ()
    line: int | None = None  # line of the rule in its policy file, for explanations
    origin: str = "policy"  # "policy" or "SECURITY_PATHS"
    path_lines: tuple[int | None, ...] = ()  # line of each pattern in ``paths`` (like git check-ignore -v)
    # Content rules (``content:``): regexes searched in a hunk's added and removed lines, with
    # comments and string literals masked where the language allows. A route with ``content``
    # sends a matching hunk to its lane; its ``paths`` (if any) only scope where it applies.
    content: tuple[str, ...] = ()
    content_lines: tuple[int | None, ...] = ()  # line of each regex in ``content``

    @property
    def is_content(self) -> bool:
        return bool(self.content)


@dataclass(frozen=True)
class Budget:
    tokens_per_pr: int = 200_000  # cap for the PR across all its runs
    tokens_per_run: int = 100_000  # cap for one run
    max_output_tokens_per_call: int = 4_000
    # Accepted and validated, but no effect yet: the planner already plans every security hunk first,
    # against the whole run budget, so no share needs holding for it within a run.
    reserve_for_security: float = 0.7
    max_hunk_tokens: int = 6_000  # a larger hunk is clipped at line boundaries
    # Share of the run budget the general lane's first pass leaves for hunks it escalates to
    # the security lane (the security lane's own hunks are planned first and may use it all).
    reserve_for_escalation: float = 0.1


@dataclass(frozen=True)
class ReviewSettings:
    max_parallel: int = 4
    min_confidence: Confidence = Confidence.LOW  # findings below are dropped, and counted
    max_safeguard_hits: int = 3  # after this many cyber_policy refusals, stop sending security content
    timeout_seconds: float = 60.0
    max_retries: int = 4


@dataclass(frozen=True)
class Price:
    """USD per one million tokens."""

    input: float
    output: float
    cached_input: float | None = None


@dataclass(frozen=True)
class FailOn:
    severity: Severity | None = Severity.HIGH  # None: never fail on findings
    incomplete: bool = False


@dataclass(frozen=True)
class RedactionConfig:
    extra_patterns: tuple[tuple[str, str], ...] = ()  # (name, regex)
    allow: tuple[str, ...] = ()  # regexes or exact strings that are never secrets
    pii: bool = True


DEFAULT_LANES = (
    LaneConfig(
        Lane.SECURITY,
        ("gpt-5.5-cyber-preview", "gpt-5.6-cyber"),
        access_program="daybreak_red",
        fallback=Lane.GENERAL,
    ),
    LaneConfig(Lane.GENERAL, ("gpt-5.5",)),
)


@dataclass(frozen=True)
class Policy:
    version: int = 1
    lanes: tuple[LaneConfig, ...] = DEFAULT_LANES
    routes: tuple[RouteRule, ...] = ()
    default_lane: Lane = Lane.GENERAL
    exclude: tuple[str, ...] = ()
    exclude_lines: tuple[int | None, ...] = ()  # line of each ``exclude`` pattern
    budget: Budget = field(default_factory=Budget)
    fail_on: FailOn = field(default_factory=FailOn)
    redaction: RedactionConfig = field(default_factory=RedactionConfig)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    prices: tuple[tuple[str, Price], ...] = ()  # model id -> price
    source: str = "<default>"  # file the policy came from
    digest: str = ""  # sha256 of the policy's canonical JSON form

    def lane(self, name: Lane) -> LaneConfig:
        for cfg in self.lanes:
            if cfg.name is name:
                return cfg
        raise KeyError(name)

    def price(self, model: str) -> Price | None:
        for model_id, price in self.prices:
            if model_id == model:
                return price
        return None
