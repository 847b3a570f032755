"""Run a Plan's model calls: bounded parallelism, budget, retries, fallback, safeguards, audit.

The probe decides which model serves each lane before anything is sent
(:mod:`reviewbot.lanes.probe`); the engine sends each planned request to its
lane's model and turns the replies into findings. Decisions made here:

- every attempt reserves ``estimate + max_output_tokens`` in the :class:`Ledger`
  first, or is not sent (its hunks become ``over-budget``); reported usage is
  charged after every attempt, failed and retried ones included. A timeout is
  charged the input estimate (the server may have billed it); an HTTP error is
  charged nothing.
- a 403/404 on a model mid-run switches every lane that model serves to its
  fallback for the rest of the run, and the affected hunks are marked.
- ``cyber_policy``: the same content is never resent to the same model; it goes
  to the fallback model at most once, else it is ``blocked-by-safeguard``. After
  ``max_safeguard_hits`` hits no more security-lane content is sent.
- a bad key or exhausted quota stops the run: nothing more is sent, and the
  result carries the error for the caller to raise (exit 4).
- escalation: a general-lane reply may ask for hunks to be reviewed again by the
  security lane; the engine collects those requests (``EngineResult.escalations``,
  reasons cleaned and redacted) and :mod:`reviewbot.lanes.escalation` plans and
  sends them as a second pass (``run(..., escalated=...)``). That pass never falls
  back: re-sending an escalated hunk to the general model would only ask it again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from ..audit import AuditLog
from ..models import (
    Finding,
    Hunk,
    Lane,
    LaneResolution,
    Plan,
    PlannedRequest,
    RedactedText,
    SkippedItem,
    SkipReason,
    Usage,
)
from ..policy.model import Policy
from ..report.sanitize import cap, clean_prompt_text
from .errors import ErrorKind, LaneAuthError, LaneCallError, fatal_error
from .findings import map_findings
from .ledger import Ledger
from .probe import served_below
from .prompt import PromptHunk, build_body, prepare_hunk
from .retry import BackoffGate, RetryPolicy, call_with_retry
from .reviewer import ModelReply, Reviewer
from .schema import OutputInvalid, RawEscalation, asks_escalation, parse_review


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    request_id: str
    outcome: str  # "reviewed", "over-budget", "failed", ...


MAX_REASON_CHARS = 300
NO_REASON = "(no reason given)"


MAX_REASON_INPUT = 20_000  # a longer reason is cut first: nothing of it past here is kept anyway


def clean_reason(text: str, scrub: Callable[[str], RedactedText]) -> RedactedText:
    """A model's escalation reason, safe to keep: redacted, one line, no hidden carriers or HTML comments, capped.

    The order matters. Hidden carriers go first (a zero-width character inside a secret would hide
    it from the redactor, and removing it later would rejoin the secret); then the whole text is
    redacted while it still has its lines (a private key block is only recognised as a block) and
    before it is cut (half a token is no longer recognised); only then is it folded and capped,
    and the short result is redacted once more.
    """
    visible = clean_prompt_text(text, max_chars=MAX_REASON_INPUT)
    folded = " ".join(scrub(visible).split())
    return scrub(cap(folded, MAX_REASON_CHARS) or NO_REASON)


@dataclass(frozen=True)
class EscalationRequest:
    """A general-lane hunk its reviewer asked to send to the security lane; ``reason`` is cleaned model text."""

    hunk_id: str
    reason: RedactedText


@dataclass(frozen=True)
class EngineResult:
    findings: tuple[Finding, ...]
    reviewed_hunk_ids: tuple[str, ...]
    skipped: tuple[SkippedItem, ...]
    usage_by_lane: tuple[tuple[str, Usage], ...]  # by the lane whose key paid
    lanes: tuple[LaneResolution, ...]  # after any mid-run switch
    fell_back_hunk_ids: tuple[str, ...]
    dropped_low_confidence: int
    safeguard_hits: int
    calls: int
    notes: tuple[str, ...]
    fatal: LaneAuthError | None = field(default=None, compare=False)
    escalations: tuple[EscalationRequest, ...] = ()  # sorted by hunk id, one per hunk

    def raise_if_fatal(self) -> None:
        if self.fatal is not None:
            raise self.fatal


@dataclass(frozen=True)
class _Route:
    model: str | None
    serving_lane: Lane | None  # whose key and access program are used
    access_program: str | None
    resolution: LaneResolution


@dataclass
class _Outcome:
    findings: list[Finding] = field(default_factory=list)
    reviewed: list[str] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    fell_back: set[str] = field(default_factory=set)
    dropped: int = 0
    notes: list[str] = field(default_factory=list)
    escalations: list[EscalationRequest] = field(default_factory=list)


class _OverBudget(Exception):
    pass


class Engine:
    def __init__(
        self,
        policy: Policy,
        reviewer: Reviewer,
        *,
        resolutions: Sequence[LaneResolution],
        ledger: Ledger,
        audit: AuditLog,
        redact: Callable[[str], RedactedText],
        scrub: Callable[[str], RedactedText],
        safety_identifier: str,
        estimate: Callable[[str], int] | None = None,
        retry: RetryPolicy | None = None,
        gate: BackoffGate | None = None,
        progress: Callable[[Progress], None] | None = None,
        condensed: Mapping[str, PromptHunk] | None = None,
    ) -> None:
        self.policy = policy
        self.reviewer = reviewer
        self.ledger = ledger
        self.audit = audit
        self.redact = redact
        self.scrub = scrub
        self.safety_identifier = safety_identifier
        self._estimate = estimate
        self.retry = retry or RetryPolicy(max_attempts=policy.review.max_retries + 1)
        self.gate = gate or BackoffGate()
        self.progress = progress
        self.condensed = dict(condensed or {})  # hunk id -> its package changes (mode condensed)
        self.timeout = policy.review.timeout_seconds
        self._lock = threading.Lock()
        self._routes = {r.lane: self._route_from(r) for r in resolutions}
        self._safeguard_hits = 0
        self._fatal: LaneAuthError | None = None
        self._calls = 0
        self._done = 0
        self._notes: list[str] = []

    # -- routes ----------------------------------------------------------
    def _route_from(self, r: LaneResolution) -> _Route:
        lane = r.served_lane
        program = self.policy.lane(lane).access_program if lane is not None else None
        return _Route(r.served_by, lane, program, r)

    def _route(self, lane: Lane) -> _Route | None:
        with self._lock:
            return self._routes.get(lane)

    def _fallback_route(self, lane: Lane, failed_model: str | None) -> _Route | None:
        fb = self.policy.lane(lane).fallback
        with self._lock:
            route = self._routes.get(fb) if fb is not None else None
        if route is None or route.model is None or route.model == failed_model:
            return None
        return route

    def _switch(self, lane: Lane, failed: _Route, why: str) -> _Route | None:
        """A 403/404 mid-run on ``failed.model``: every lane it served moves to its fallback."""
        with self._lock:
            current = self._routes.get(lane)
            if current is not None and current.model != failed.model:
                return current  # another worker already switched
        for other in list(self._routes):
            r = self._route(other)
            if r is None or r.model != failed.model:
                continue
            fb = self._fallback_route(other, failed.model)
            res = r.resolution
            if fb is not None:
                new = replace(
                    fb,
                    resolution=LaneResolution(
                        other,
                        res.requested,
                        fb.model,
                        fb.serving_lane,
                        f"fallback mid-run: {failed.model}: {why}",
                        fb.access_program,
                        fell_back=True,
                    ),
                )
            else:
                new = _Route(
                    None,
                    None,
                    None,
                    LaneResolution(other, res.requested, None, None, f"no model mid-run: {why}"),
                )
            with self._lock:
                self._routes[other] = new
                self._notes.append(f"{other.value} lane: {failed.model} became unavailable mid-run ({why})")
            self.audit.append("lane.switch", lane=other.value, model=failed.model, reason=why, to=new.model)
        return self._route(lane)

    # -- the run ---------------------------------------------------------
    def security_route(self) -> LaneResolution | None:
        """How the security lane is served now (after any mid-run switch)."""
        route = self._route(Lane.SECURITY)
        return route.resolution if route is not None else None

    def run(
        self, plan: Plan, hunks: Mapping[str, Hunk], *, escalated: Mapping[str, RedactedText] | None = None
    ) -> EngineResult:
        """Send ``plan``'s requests. With ``escalated`` (hunk id -> cleaned reason) this is the
        escalation pass: the reasons go into the prompt as data, and nothing falls back."""
        total = len(plan.requests)
        workers = max(1, min(self.policy.review.max_parallel, total or 1))
        with self._lock:
            self._done = 0
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reviewbot-lane") as pool:
            outcomes = list(pool.map(lambda req: self._run_one(req, hunks, total, escalated), plan.requests))
        findings = sorted((f for o in outcomes for f in o.findings), key=Finding.sort_key)
        skipped = sorted((s for o in outcomes for s in o.skipped), key=SkippedItem.sort_key)
        snap = self.ledger.snapshot()
        with self._lock:
            lanes = tuple(sorted((r.resolution for r in self._routes.values()), key=lambda r: r.lane.value))
            notes = tuple(sorted({*self._notes, *(n for o in outcomes for n in o.notes)}))
        if snap.overrun:
            notes = (*notes, f"the server reported {snap.overrun} tokens more than reserved: sending stopped")
        wanted: dict[str, EscalationRequest] = {}
        for o in outcomes:
            for e in o.escalations:
                wanted.setdefault(e.hunk_id, e)
        return EngineResult(
            findings=tuple(findings),
            reviewed_hunk_ids=tuple(sorted({h for o in outcomes for h in o.reviewed})),
            skipped=tuple(skipped),
            usage_by_lane=snap.by_lane,
            lanes=lanes,
            fell_back_hunk_ids=tuple(sorted({h for o in outcomes for h in o.fell_back})),
            dropped_low_confidence=sum(o.dropped for o in outcomes),
            safeguard_hits=self._safeguard_hits,
            calls=self._calls,
            notes=notes,
            fatal=self._fatal,
            escalations=tuple(wanted[h] for h in sorted(wanted)),
        )

    def _run_one(
        self,
        req: PlannedRequest,
        hunks: Mapping[str, Hunk],
        total: int,
        escalated: Mapping[str, RedactedText] | None,
    ) -> _Outcome:
        out = _Outcome()
        try:
            self._review(req, hunks, out, escalated)
        finally:
            with self._lock:
                self._done += 1
                done = self._done
                if self.progress is not None:
                    outcome = "reviewed" if out.reviewed else (out.skipped[0].reason.value if out.skipped else "done")
                    self.progress(Progress(done, total, req.id, outcome))
        return out

    def _skip(self, out: _Outcome, req: PlannedRequest, hunks: Sequence[Hunk], reason: SkipReason, detail: str) -> None:
        out.skipped.extend(SkippedItem(h.path, reason, detail, h.id, req.lane) for h in hunks)

    def _review(
        self,
        req: PlannedRequest,
        all_hunks: Mapping[str, Hunk],
        out: _Outcome,
        escalated: Mapping[str, RedactedText] | None = None,
    ) -> None:
        hunks = [all_hunks[h] for h in req.hunk_ids if h in all_hunks]
        for missing in sorted(set(req.hunk_ids) - set(all_hunks)):
            out.skipped.append(SkippedItem("", SkipReason.FAILED, "hunk not in the diff", missing, req.lane))
        if not hunks:
            return
        prompt = [self._prompt_hunk(h, req) for h in hunks]
        second_pass = escalated is not None
        if escalated is not None:
            prompt = [(h, replace(p, escalation_reason=escalated.get(h.id))) for h, p in prompt]
        route = self._route(req.lane)
        tried_fallback = False
        repair_error: str | None = None
        while True:
            if self._fatal is not None:
                return self._skip(out, req, hunks, SkipReason.FAILED, f"not sent: run aborted ({self._fatal.message})")
            if req.lane is Lane.SECURITY and self._safeguard_hits >= self.policy.review.max_safeguard_hits:
                return self._skip(
                    out,
                    req,
                    hunks,
                    SkipReason.BLOCKED_BY_SAFEGUARD,
                    "not sent: safeguard limit reached for this run",
                )
            if route is None or route.model is None or route.serving_lane is None:
                why = route.resolution.reason if route is not None else "lane not probed"
                return self._skip(out, req, hunks, SkipReason.NO_MODEL, why)
            model, serving = route.model, route.serving_lane
            if second_pass and (route.resolution.fell_back or serving is not req.lane):
                return self._skip(
                    out, req, hunks, SkipReason.NO_MODEL,
                    f"the {req.lane.value} lane is served by {route.model} ({route.resolution.reason}): "
                    "an escalation is not sent to a fallback",
                )
            if route.resolution.fell_back:
                out.fell_back.update(h.id for h in hunks)
            body = build_body(
                model=route.model,
                lane=req.lane,
                hunks=[p for _, p in prompt],
                max_output_tokens=req.max_output_tokens,
                safety_identifier=self.safety_identifier,
                access_program=route.access_program,
                repair_error=repair_error,
            )
            try:
                reply = self._send(req, route, body)
            except _OverBudget:
                return self._skip(out, req, hunks, SkipReason.OVER_BUDGET, "not sent: budget remaining too small")
            except LaneCallError as exc:
                c = exc.classified
                if c.kind is ErrorKind.LANE_UNAVAILABLE:
                    new = self._switch(req.lane, route, c.short)
                    if new is not None and new.model not in (None, route.model) and not second_pass:
                        route = new
                        continue
                    return self._skip(out, req, hunks, SkipReason.FAILED, f"{route.model}: {c.short}")
                if c.kind is ErrorKind.SAFEGUARD:
                    with self._lock:
                        self._safeguard_hits += 1
                    fb = None if tried_fallback or second_pass else self._fallback_route(req.lane, route.model)
                    if fb is not None:
                        tried_fallback = True
                        out.fell_back.update(h.id for h in hunks)
                        route = fb
                        continue
                    return self._skip(out, req, hunks, SkipReason.BLOCKED_BY_SAFEGUARD, f"{route.model}: {c.short}")
                if c.kind.fatal:
                    with self._lock:
                        if self._fatal is None:
                            self._fatal = fatal_error(c, key_source=self.reviewer.key_source(serving))
                    return self._skip(out, req, hunks, SkipReason.FAILED, f"{route.model}: {c.short}")
                if c.kind is ErrorKind.CONFIG:
                    out.notes.append(
                        f"{serving.value} lane: access program {route.access_program!r} is not "
                        f"accepted by {route.model}: fix the policy (not a reason to fall back)"
                    )
                detail = f"{route.model}: {c.short}"
                if c.kind.retryable:
                    detail += " (gave up after retries)"
                return self._skip(out, req, hunks, SkipReason.FAILED, detail)
            if route.access_program and served_below(route.access_program, reply.access_program):
                out.fell_back.update(h.id for h in hunks)
                out.notes.append(
                    f"{req.lane.value} lane: {reply.model} served under "
                    f"{reply.access_program or 'standard (implicit)'}, not {route.access_program}"
                )
            if reply.refusal is not None:
                fb = None if tried_fallback or second_pass else self._fallback_route(req.lane, route.model)
                if fb is not None:
                    tried_fallback = True
                    out.fell_back.update(h.id for h in hunks)
                    route = fb
                    continue
                return self._skip(out, req, hunks, SkipReason.FAILED, f"{reply.model} refused to review")
            try:
                parsed = parse_review(reply.output_text, req.lane)
            except OutputInvalid as exc:
                if reply.status == "incomplete":
                    why = reply.incomplete_reason or "unknown"
                    return self._skip(out, req, hunks, SkipReason.FAILED, f"{reply.model}: output incomplete ({why})")
                if repair_error is None:
                    repair_error = str(exc)
                    continue
                return self._skip(out, req, hunks, SkipReason.FAILED, f"{reply.model}: invalid output after a repair")
            mapped = map_findings(
                parsed.findings,
                prompt,
                model=reply.model or model,
                lane=req.lane,
                min_confidence=self.policy.review.min_confidence,
                scrub=self.scrub,
            )
            out.findings.extend(mapped.findings)
            out.dropped += mapped.dropped_low_confidence
            out.reviewed.extend(h.id for h in hunks)
            self._collect_escalations(req, serving, parsed.escalations, hunks, out)
            return None

    def _prompt_hunk(self, hunk: Hunk, req: PlannedRequest) -> tuple[Hunk, PromptHunk]:
        """``hunk`` and what the model sees of it: its redacted lines, or its condensed package changes.

        A hunk the planner clipped is sent up to its kept line (findings past it cannot be placed).
        """
        kept = req.lines_kept(hunk.id)
        shown = self.condensed.get(hunk.id)
        if shown is not None:
            return hunk, replace(shown, lane=req.lane, lines=shown.lines[:kept] if kept else shown.lines)
        sent = replace(hunk, lines=hunk.lines[:kept]) if kept else hunk
        return sent, prepare_hunk(sent, req.lane, path=self.redact(sent.path), body=self.redact(sent.body()))

    def _collect_escalations(
        self,
        req: PlannedRequest,
        serving: Lane,
        escalations: Sequence[RawEscalation],
        hunks: Sequence[Hunk],
        out: _Outcome,
    ) -> None:
        """Keep ``needed`` escalations of this request's own hunks; ``needed: false`` changes nothing."""
        if not asks_escalation(req.lane):
            return
        ids = {h.id for h in hunks}
        wanted = [e for e in escalations if e.needed and e.hunk_id in ids]
        if len(wanted) < sum(1 for e in escalations if e.needed):
            out.notes.append("an escalation naming a hunk outside its request was ignored")
        if not wanted:
            return
        if serving is Lane.SECURITY:  # the general lane fell back to the security lane's model
            out.notes.append(
                f"{len(wanted)} escalation(s) ignored: the general lane was served by the security lane's model"
            )
            return
        seen: set[str] = set()
        for e in wanted:
            if e.hunk_id not in seen:
                seen.add(e.hunk_id)
                out.escalations.append(EscalationRequest(e.hunk_id, clean_reason(e.reason or "", self.scrub)))

    def _estimate_input(self, req: PlannedRequest, body: Mapping[str, object]) -> int:
        if self._estimate is None:
            from ..tokens import get_estimator

            self._estimate = get_estimator().count
        text = f"{body['instructions']}{json.dumps(body['text'], sort_keys=True)}{body['input']}"
        return max(req.estimated_input_tokens, self._estimate(text))

    def _send(self, req: PlannedRequest, route: _Route, body: dict[str, object]) -> ModelReply:
        assert route.serving_lane is not None and route.model is not None
        serving_lane = route.serving_lane
        estimate = self._estimate_input(req, body)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

        def attempt(n: int) -> ModelReply:
            reservation = self.ledger.reserve(
                estimate + req.max_output_tokens, lane=serving_lane.value, purpose="review"
            )
            if reservation is None:
                raise _OverBudget
            started = time.monotonic()
            reply: ModelReply | None = None
            error: LaneCallError | None = None
            try:
                reply = self.reviewer.create(serving_lane, body, timeout=self.timeout)
                return reply
            except LaneCallError as exc:
                error = exc
                raise
            finally:
                usage = reply.usage if reply is not None else None
                if error is not None and error.classified.message == "timeout":
                    usage = Usage(input_tokens=estimate)  # the server may have billed the input
                self.ledger.settle(reservation, usage)
                with self._lock:
                    self._calls += 1
                self.audit.append(
                    "model.call",
                    request=req.id,
                    attempt=n,
                    lane=req.lane.value,
                    key_lane=serving_lane.value,
                    requested_model=route.model,
                    served_model=reply.model if reply else None,
                    requested_access_program=route.access_program,
                    served_access_program=reply.access_program if reply else None,
                    fallback_reason=route.resolution.reason if route.resolution.fell_back else None,
                    request_digest=digest,
                    reserved=reservation.tokens,
                    usage={
                        "input_tokens": usage.input_tokens if usage else 0,
                        "cached_tokens": usage.cached_tokens if usage else 0,
                        "output_tokens": usage.output_tokens if usage else 0,
                    },
                    latency_ms=round((time.monotonic() - started) * 1000),
                    outcome=(reply.status if reply else error.classified.short if error else "error"),
                )

        return call_with_retry(attempt, policy=self.retry, gate=self.gate)
