"""The versioned, deterministic JSON report: same input, byte-identical output.

No timestamps, sorted keys and lists, nothing taken from set iteration order.
``REPORT_VERSION`` changes whenever a field changes meaning or is removed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from .. import __version__
from ..gcpause import paused_gc
from ..models import Escalation, Finding, Hunk, Lane, LaneResolution, PlannedRequest, Route, RunResult, SkippedItem

REPORT_VERSION = 1


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "cwe": f.cwe,
        "severity": f.severity.label,
        "confidence": f.confidence.label,
        "path": f.path,
        "start_line": f.start_line,
        "end_line": f.end_line,
        "title": f.title,
        "body": f.body,
        "fix": f.fix,
        "source": f.source,
        "fingerprint": f.fingerprint,
        "hunk": f.hunk_id,
        "placed": f.placed,
        "lane": f.lane.value if f.lane else None,
    }


def _hunk(h: Hunk, route: Route | None, condensed: bool) -> dict[str, Any]:
    sent = route is not None and route.lane is not Lane.SKIP
    return {
        "id": h.id,
        "path": h.path,
        "old_path": h.old_path,
        "status": h.status.value,
        "header": h.header,
        "added": h.added,
        "removed": h.removed,
        "language": h.language,
        "lane": route.lane.value if route else None,
        "rule": route.rule if route else None,
        "pattern": route.pattern if route else None,
        "matched_path": route.matched_path if route else None,
        "matched_line": route.matched_line if route else None,
        # what a model lane is sent: "raw" (the hunk's lines), "condensed" (its package changes), or null
        "mode": ("condensed" if condensed else "raw") if sent else None,
    }


def _skipped(s: SkippedItem) -> dict[str, Any]:
    return {
        "path": s.path,
        "hunk": s.hunk_id,
        "reason": s.reason.value,
        "detail": s.detail,
        "lane": s.lane.value if s.lane else None,
    }


def _escalation(e: Escalation) -> dict[str, Any]:
    return {
        "path": e.path,
        "hunk": e.hunk_id,
        "reason": e.reason,  # the general model's words: untrusted, redacted
        "reviewed": e.reviewed,
        "skipped": e.skipped.value if e.skipped else None,
        "detail": e.detail,
    }


def _request(r: PlannedRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "lane": r.lane.value,
        "hunks": list(r.hunk_ids),
        "estimated_input_tokens": r.estimated_input_tokens,
        "max_output_tokens": r.max_output_tokens,
        "clipped": list(r.clipped),
    }


def _lane(lane: LaneResolution) -> dict[str, Any]:
    return {
        "lane": lane.lane.value,
        "requested": list(lane.requested),
        "served_by": lane.served_by,
        "served_lane": lane.served_lane.value if lane.served_lane else None,
        "reason": lane.reason,
        "access_program": lane.access_program,
        "fell_back": lane.fell_back,
    }


def report_dict(result: RunResult) -> dict[str, Any]:
    routes = {r.hunk_id: r for r in result.routes}
    condensed = set(result.condensed)
    plan = result.plan
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "reviewbot", "version": __version__},
        "source": result.source,
        "head_sha": result.head_sha,
        "policy": {"source": result.policy_source, "digest": result.policy_digest},
        "state": result.state.value,
        "model_called": result.model_called,
        "coverage": {
            "hunks_total": result.coverage.hunks_total,
            "hunks_reviewed": result.coverage.hunks_reviewed,
            "hunks_skipped": result.coverage.hunks_skipped,
            "skipped_by_reason": dict(result.coverage.skipped_by_reason),
            "fell_back": result.coverage.fell_back,
            "escalated": result.coverage.escalated,
            "escalated_reviewed": result.coverage.escalated_reviewed,
            "escalated_over_budget": result.coverage.escalated_over_budget,
            "escalated_not_sent": result.coverage.escalated_not_sent,
            "condensed": result.coverage.condensed,
        },
        "lanes": [_lane(lane) for lane in sorted(result.lanes, key=lambda x: x.lane.value)],
        "budget": {
            "budget_tokens": plan.budget_tokens,
            "estimator": plan.estimator,
            "reserved_tokens": plan.reserved_tokens,
            "escalation_reserve": plan.escalation_reserve,
            "tokens_used": result.tokens_used,
            "usage_by_lane": {
                lane: {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
                       "cached_tokens": u.cached_tokens}
                for lane, u in result.usage_by_lane
            },
            "estimated_cost_usd": {lane: round(cost, 6) for lane, cost in result.cost_usd},
        },
        "plan": {"requests": [_request(r) for r in plan.requests]},
        "hunks": [_hunk(h, routes.get(h.id), h.id in condensed) for h in result.hunks],
        "skipped": [_skipped(s) for s in result.skipped],
        "escalations": [_escalation(e) for e in sorted(result.escalations, key=Escalation.sort_key)],
        "findings": [_finding(f) for f in sorted(result.findings, key=Finding.sort_key)],
        "notes": list(result.notes),
    }


def _scrub_all(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    # Plain strings, nearly every value of a report, are scrubbed in place rather than by a call.
    if isinstance(value, dict):
        return {k: scrub(v) if type(v) is str else _scrub_all(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) if type(v) is str else _scrub_all(v, scrub) for v in value]
    return value


@paused_gc
def render_json(result: RunResult, *, scrub: Callable[[str], str]) -> str:
    """Every string value passes through ``scrub`` (the redactor) before it is written."""
    data = _scrub_all(report_dict(result), scrub)
    return dumps_indented(data) + "\n"


_INDENT = "  "


@functools.cache
def _flat_encoder(level: int) -> Callable[[Any], str]:
    """C-speed encoder for a container of scalars whose items sit at indentation ``level``."""
    # Without ``indent`` the standard encoder runs in C; the separator carries the indentation.
    return json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=("," + "\n" + _INDENT * level, ": ")).encode


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_leaf(values: Any) -> bool:
    """True when every value is a plain scalar (anything else takes the general path)."""
    return _SCALARS.issuperset(map(type, values))


def dumps_indented(value: Any) -> str:
    """Exactly ``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)``, faster.

    With ``indent`` set, the standard library falls back to its pure-Python encoder. Here every
    container holding only scalars (the many flat records of a report) is written by the C
    encoder, whose item separator carries the newline and indentation; only the few containers
    of containers are walked in Python.
    """
    out: list[str] = []
    _write(value, 0, out)
    return "".join(out)


def _write(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        out.append(_flat_encoder(0)(value))
        return
    if not value:
        out.append("{}" if isinstance(value, dict) else "[]")
        return
    inner = "\n" + _INDENT * (level + 1)
    close = "\n" + _INDENT * level
    if _is_leaf(items):
        text = _flat_encoder(level + 1)(value)
        out.append(text[0] + inner + text[1:-1] + close + text[-1])
        return
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):  # keys json turns into strings: let it
            out.append(json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).replace("\n", close))
            return
        out.append("{")
        sep = inner
        for key, item in sorted(value.items()):
            out.append(sep + _flat_encoder(0)(key) + ": ")
            _write(item, level + 1, out)
            sep = "," + inner
        out.append(close + "}")
        return
    out.append("[")
    sep = inner
    for item in value:
        out.append(sep)
        _write(item, level + 1, out)
        sep = "," + inner
    out.append(close + "]")
