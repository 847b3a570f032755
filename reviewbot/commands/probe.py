"""`reviewbot probe`: which model serves each lane, and why (DESIGN.md §4, §7)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK, ModelError, UsageError
from ..lanes.client import LANE_KEY_VARS, lane_endpoint
from ..lanes.errors import AccessProgramError, fatal_error
from ..lanes.ledger import Ledger
from ..lanes.probe import PROBE_TIMEOUT, LaneProbe, Prober, ProbeReport
from ..lanes.reviewer import OpenAIReviewer
from ..models import Usage
from ..policy import Policy, load_policy


class NoApiKeyError(UsageError):
    """No API key for any lane."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("probe", help="which model serves each lane, and why")
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy file (default: .github/reviewbot.yml)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy, cwd=Path.cwd(), env=os.environ)
    report = probe(policy, os.environ)
    print(render_json(policy, report) if args.format == "json" else render_text(policy, report))
    return exit_code(report)


def probe(policy: Policy, env: Any) -> ProbeReport:
    endpoints = {cfg.name: ep for cfg in policy.lanes if (ep := lane_endpoint(cfg.name, env)) is not None}
    if not endpoints:
        names = ", ".join(sorted({"OPENAI_API_KEY", *LANE_KEY_VARS.values()}))
        raise NoApiKeyError(
            "no API key: nothing to probe",
            hint=f"set OPENAI_API_KEY (or a per-lane key: {names}); empty values count as unset",
        )
    prober = Prober(
        policy,
        OpenAIReviewer(endpoints),
        ledger=Ledger(policy.budget.tokens_per_run),
        timeout=min(PROBE_TIMEOUT, policy.review.timeout_seconds),
    )
    return prober.run()


def exit_code(report: ProbeReport) -> int:
    """0 when every lane has a model; raises for bad key / quota (4), config (2), no model (2)."""
    if report.fatal:
        key_source, classified = report.fatal[0]
        raise fatal_error(classified, key_source=key_source)
    if report.config_errors:
        raise AccessProgramError(
            report.config_errors[0],
            hint="the access program must match the model (both cyber models take daybreak_red)",
        )
    missing = [p.lane.value for p in report.lanes if p.resolution.served_by is None]
    if missing:
        raise ModelError(
            f"no model can serve the {', '.join(missing)} lane(s)",
            hint="check the lanes' model IDs and that the key's project has access to them",
        )
    return EXIT_OK


def _lane_usage(p: LaneProbe) -> Usage:
    total = Usage()
    for a in p.attempts:
        if a.lane is p.lane:
            total = total + a.usage
    return total


def _usage(u: Usage) -> dict[str, int]:
    return {
        "input_tokens": u.input_tokens,
        "cached_tokens": u.cached_tokens,
        "output_tokens": u.output_tokens,
    }


def render_text(policy: Policy, report: ProbeReport) -> str:
    out: list[str] = []
    for p in report.lanes:
        cfg = policy.lane(p.lane)
        program = f", access program {cfg.access_program}" if cfg.access_program else ""
        out.append(f"lane {p.lane.value} (key {p.key_source or 'none'}{program})")
        width = max((len(a.model) for a in p.attempts), default=0)
        for a in p.attempts:
            if a.lane is not p.lane:
                continue
            detail = a.detail
            if a.reachable and not a.downgraded:
                detail += f" (served under {a.served_access_program or 'standard'})"
            if a.hint:
                detail += f" — {a.hint}"
            out.append(f"  {a.model:<{width}}  {detail}")
        r = p.resolution
        if r.served_by is None:
            out.append(f"  -> no model: {r.reason.removeprefix('no model: ')}")
        elif r.fell_back:
            via = f" ({r.served_lane.value} lane)" if r.served_lane and r.served_lane is not p.lane else ""
            out.append(f"  -> served by {r.served_by}{via}, FELL BACK: {r.reason}")
        else:
            out.append(f"  -> served by {r.served_by}")
        u = _lane_usage(p)
        out.append(f"  tokens: {u.total} (input {u.input_tokens}, output {u.output_tokens})")
    u = report.usage
    out.append(f"probe tokens spent: {u.total} (input {u.input_tokens}, output {u.output_tokens})")
    return "\n".join(out)


def render_json(policy: Policy, report: ProbeReport) -> str:
    lanes = []
    for p in report.lanes:
        r = p.resolution
        lanes.append(
            {
                "lane": p.lane.value,
                "key_source": p.key_source,
                "access_program": policy.lane(p.lane).access_program,
                "attempts": [
                    {
                        "model": a.model,
                        "outcome": a.outcome,
                        "detail": a.detail,
                        "hint": a.hint,
                        "status": a.error.status if a.error else 200,
                        "requested_access_program": a.requested_access_program,
                        "served_access_program": a.served_access_program,
                        "usage": _usage(a.usage),
                    }
                    for a in p.attempts
                    if a.lane is p.lane
                ],
                "served_by": r.served_by,
                "served_lane": r.served_lane.value if r.served_lane else None,
                "served_access_program": r.access_program,
                "fell_back": r.fell_back,
                "reason": r.reason,
                "usage": _usage(_lane_usage(p)),
            }
        )
    payload = {
        "version": 1,
        "ok": report.all_served and not report.fatal and not report.config_errors,
        "lanes": lanes,
        "usage": _usage(report.usage),
        "errors": [f"{src}: {c.short}" for src, c in report.fatal] + list(report.config_errors),
    }
    return json.dumps(payload, indent=2, sort_keys=True)
