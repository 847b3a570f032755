"""Probe which model can serve each lane, before anything is sent (DESIGN.md §4).

``models.retrieve`` proves nothing, so each candidate gets one real minimal
``responses.create`` call with the same model and ``access_programs`` the
review calls will use: ``input="ping"``, ``max_output_tokens=16``,
``store=False``, a short timeout, no retries. Any 2xx (even ``incomplete``)
means access. Results are cached for the run and their usage is charged to
the budget. A lane resolves to its first reachable model, else to its
``fallback`` lane's model (stated, with the reasons), else to nothing.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..audit import AuditLog
from ..models import Lane, LaneResolution, Usage
from ..policy.model import LaneConfig, Policy
from .errors import Classified, ErrorKind, LaneCallError
from .ledger import Ledger
from .reviewer import Reviewer

PROBE_INPUT = "ping"
PROBE_MAX_OUTPUT = 16  # the minimum the API accepts
PROBE_INPUT_RESERVE = 64  # "ping" plus message framing, generously
PROBE_TIMEOUT = 15.0

# Names people write that are not model IDs -> the ID they probably meant.
MODEL_HINTS = {"gpt-5.5-cyber": "gpt-5.5-cyber-preview", "gpt-5.6-cyber-preview": "gpt-5.6-cyber"}

# Cyber access programs, weakest first. None (omitted / null in a reply) is implicit standard.
PROGRAM_RANK = {None: 0, "standard": 0, "daybreak_blue": 1, "daybreak_red": 2}

OUTCOMES = {
    ErrorKind.LANE_UNAVAILABLE: "denied",  # "not-found" for a 404, below
    ErrorKind.AUTH: "bad-key",
    ErrorKind.QUOTA: "quota",
    ErrorKind.RATE_LIMIT: "rate-limited",
    ErrorKind.TRANSIENT: "unreachable",
    ErrorKind.SAFEGUARD: "blocked",
    ErrorKind.CONFIG: "config",
    ErrorKind.FAILED: "failed",
}


def served_below(requested: str | None, served: str | None) -> bool:
    """True when a call asked for ``requested`` and was served under a weaker program."""
    return requested is not None and PROGRAM_RANK.get(served, 0) < PROGRAM_RANK.get(requested, 0)


@dataclass(frozen=True)
class ProbeAttempt:
    lane: Lane  # the lane whose key and access program were used
    model: str
    outcome: str  # ok | denied | not-found | bad-key | quota | rate-limited | unreachable | config | ...
    detail: str  # "ok", "denied (403 model_access_denied)", ...
    requested_access_program: str | None
    served_access_program: str | None = None
    usage: Usage = field(default_factory=Usage)
    hint: str | None = None
    error: Classified | None = None
    response_status: str | None = None  # "completed" / "incomplete" on access

    @property
    def reachable(self) -> bool:
        return self.outcome == "ok"

    @property
    def downgraded(self) -> bool:
        return self.reachable and served_below(self.requested_access_program, self.served_access_program)


@dataclass(frozen=True)
class LaneProbe:
    lane: Lane
    key_source: str | None
    attempts: tuple[ProbeAttempt, ...]
    resolution: LaneResolution


@dataclass(frozen=True)
class ProbeReport:
    lanes: tuple[LaneProbe, ...]
    usage: Usage
    fatal: tuple[tuple[str, Classified], ...] = ()  # (key source, bad key / quota)
    config_errors: tuple[str, ...] = ()

    @property
    def resolutions(self) -> tuple[LaneResolution, ...]:
        return tuple(p.resolution for p in self.lanes)

    def resolution(self, lane: Lane) -> LaneResolution | None:
        return next((p.resolution for p in self.lanes if p.lane is lane), None)

    @property
    def all_served(self) -> bool:
        return all(p.resolution.served_by for p in self.lanes)


class Prober:
    """Probes with a :class:`Reviewer`; one instance per run (its cache is the run's)."""

    def __init__(
        self,
        policy: Policy,
        reviewer: Reviewer,
        *,
        ledger: Ledger | None = None,
        audit: AuditLog | None = None,
        timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self.policy = policy
        self.reviewer = reviewer
        self.ledger = ledger
        self.audit = audit
        self.timeout = timeout
        self._cache: dict[tuple[Lane, str, str | None], ProbeAttempt] = {}
        self._lock = threading.Lock()

    def probe_model(self, cfg: LaneConfig, model: str) -> ProbeAttempt:
        """One probe call (cached per lane key, model and access program for this run)."""
        key = (cfg.name, model, cfg.access_program)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        attempt = self._call(cfg, model)
        with self._lock:
            self._cache.setdefault(key, attempt)
        return attempt

    def _call(self, cfg: LaneConfig, model: str) -> ProbeAttempt:
        program = cfg.access_program
        base = ProbeAttempt(cfg.name, model, "", "", program)
        if self.reviewer.key_source(cfg.name) is None:
            return _replace(base, outcome="no-key", detail="no API key")
        reservation = None
        if self.ledger is not None:
            reservation = self.ledger.reserve(
                PROBE_INPUT_RESERVE + PROBE_MAX_OUTPUT, lane=cfg.name.value, purpose="probe"
            )
            if reservation is None:
                return _replace(base, outcome="over-budget", detail="not probed: no budget left")
        body: dict[str, object] = {
            "model": model,
            "input": PROBE_INPUT,
            "max_output_tokens": PROBE_MAX_OUTPUT,
            "store": False,
        }
        if program:
            body["access_programs"] = {"cyber": program}
        started = time.monotonic()
        usage: Usage | None = None
        try:
            reply = self.reviewer.create(cfg.name, body, timeout=self.timeout)
        except LaneCallError as exc:
            c = exc.classified
            outcome = (
                "not-found" if c.kind is ErrorKind.LANE_UNAVAILABLE and c.status == 404 else OUTCOMES[c.kind]
            )
            detail = c.short
            hint = None
            if outcome == "not-found":
                detail = "not found (404)"
                if model in MODEL_HINTS:
                    hint = f"did you mean {MODEL_HINTS[model]}?"
            if outcome == "config":
                detail = f"access program {program!r} is not accepted by {model} (400 invalid_access_program)"
            attempt = _replace(base, outcome=outcome, detail=detail, hint=hint, error=c)
        else:
            usage = reply.usage
            attempt = _replace(
                base,
                outcome="ok",
                detail="ok",
                served_access_program=reply.access_program,
                usage=reply.usage,
                response_status=reply.status,
            )
            if attempt.downgraded:
                attempt = _replace(
                    attempt,
                    detail=f"ok, but served under {reply.access_program or 'standard (implicit)'}, "
                    f"not {program}",
                )
        finally:
            if reservation is not None and self.ledger is not None:
                self.ledger.settle(reservation, usage)
        if self.audit is not None:
            self.audit.append(
                "probe",
                lane=cfg.name.value,
                model=model,
                outcome=attempt.outcome,
                detail=attempt.detail,
                requested_access_program=program,
                served_access_program=attempt.served_access_program,
                usage=_usage_dict(attempt.usage),
                latency_ms=round((time.monotonic() - started) * 1000),
            )
        return attempt

    def run(self, lanes: Iterable[Lane] | None = None) -> ProbeReport:
        wanted = tuple(lanes) if lanes is not None else tuple(c.name for c in self.policy.lanes)
        probes: dict[Lane, LaneProbe] = {}
        for lane in wanted:
            self._resolve(lane, probes, ())
        ordered = tuple(probes[lane] for lane in sorted(probes, key=lambda ln: ln.value))
        usage = Usage()
        seen: set[tuple[Lane, str, str | None]] = set()
        fatal: dict[str, Classified] = {}
        config: list[str] = []
        for p in ordered:
            for a in p.attempts:
                key = (a.lane, a.model, a.requested_access_program)
                if key in seen:
                    continue
                seen.add(key)
                usage = usage + a.usage
                if a.error is not None and a.error.kind.fatal:
                    fatal.setdefault(p.key_source or "OPENAI_API_KEY", a.error)
                if a.outcome == "config":
                    config.append(
                        f"lanes.{a.lane.value}: {a.detail}; set the access program the model accepts"
                    )
        return ProbeReport(ordered, usage, tuple(sorted(fatal.items())), tuple(sorted(set(config))))

    def _resolve(self, lane: Lane, probes: dict[Lane, LaneProbe], stack: tuple[Lane, ...]) -> LaneProbe:
        if lane in probes:
            return probes[lane]
        cfg = self.policy.lane(lane)
        attempts: list[ProbeAttempt] = []
        chosen: ProbeAttempt | None = None
        downgraded: ProbeAttempt | None = None
        for model in cfg.models:
            attempt = self.probe_model(cfg, model)
            attempts.append(attempt)
            if attempt.reachable and not attempt.downgraded:
                chosen = attempt
                break
            if attempt.reachable and downgraded is None:
                downgraded = attempt
            if attempt.outcome in ("bad-key", "quota", "config", "no-key", "over-budget"):
                # another model on the same key fares no better; config must be fixed
                break
        why = "; ".join(f"{a.model}: {a.detail}" for a in attempts if not a.reachable or a.downgraded)
        if chosen is not None:
            reason = "ok" if not why else f"ok ({why})"
            resolution = LaneResolution(
                lane, cfg.models, chosen.model, lane, reason, chosen.served_access_program
            )
        elif downgraded is not None:
            resolution = LaneResolution(
                lane,
                cfg.models,
                downgraded.model,
                lane,
                f"fallback: {downgraded.model} served under "
                f"{downgraded.served_access_program or 'standard (implicit)'}, asked {cfg.access_program}",
                downgraded.served_access_program,
                fell_back=True,
            )
        elif cfg.fallback is not None and cfg.fallback not in (*stack, lane) and not _is_config(attempts):
            fb = self._resolve(cfg.fallback, probes, (*stack, lane)).resolution
            if fb.served_by is not None:
                resolution = LaneResolution(
                    lane,
                    cfg.models,
                    fb.served_by,
                    fb.served_lane,
                    f"fallback to {cfg.fallback.value} lane: {why or 'no model configured'}",
                    fb.access_program,
                    fell_back=True,
                )
            else:
                resolution = LaneResolution(
                    lane,
                    cfg.models,
                    None,
                    None,
                    f"no model: {why}; fallback {cfg.fallback.value}: {fb.reason}",
                )
        else:
            resolution = LaneResolution(lane, cfg.models, None, None, f"no model: {why or 'none configured'}")
        probe = LaneProbe(lane, self.reviewer.key_source(lane), tuple(attempts), resolution)
        probes[lane] = probe
        return probe


def _is_config(attempts: list[ProbeAttempt]) -> bool:
    return any(a.outcome == "config" for a in attempts)


def _replace(attempt: ProbeAttempt, **changes: object) -> ProbeAttempt:
    return dataclasses.replace(attempt, **changes)  # type: ignore[arg-type]


def _usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cached_tokens": usage.cached_tokens,
        "output_tokens": usage.output_tokens,
    }
