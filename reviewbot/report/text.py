"""The terminal report: a ``rich`` table on a terminal, plain aligned text otherwise.

Every string from the diff is passed as a ``rich.text.Text`` object, never as markup,
so a file named ``[bold]x`` prints as itself, and with its control characters escaped, so a
file named ``x\\x1b[2J`` cannot clear or rewrite the terminal.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..models import Lane, RunResult, RunState


def coverage_line(result: RunResult) -> str:
    cov = result.coverage
    parts = [f"{cov.hunks_total} hunks", f"{cov.hunks_reviewed} reviewed by a model"]
    if cov.condensed:
        parts[-1] += f" ({cov.condensed} as condensed dependency changes)"
    for reason, n in cov.skipped_by_reason:
        parts.append(f"{n} {reason}")
    if cov.fell_back:
        parts.append(f"{cov.fell_back} fell back to the general model")
    if cov.escalated or result.model_called:
        esc = (
            f"{cov.escalated} escalated by the general model ({cov.escalated_reviewed} reviewed again by "
            f"the security lane, {cov.escalated_over_budget} over budget"
        )
        if cov.escalated_not_sent:
            esc += f", {cov.escalated_not_sent} not sent"
        parts.append(esc + ")")
    return f"Coverage ({result.state.value}): " + ", ".join(parts)


def verdict_line(result: RunResult) -> str:
    n = len(result.findings)
    reviewed = result.coverage.hunks_reviewed
    if result.coverage.hunks_total == 0:
        review = "Nothing to review: the diff is empty."
    elif not result.model_called or reviewed == 0:
        review = "NOTHING WAS REVIEWED BY A MODEL: see coverage."
    elif n == 0:
        review = f"No findings in {reviewed} reviewed hunk{'s' if reviewed != 1 else ''}."
    else:
        review = f"{reviewed} hunk{'s' if reviewed != 1 else ''} reviewed by a model."
    if n:
        worst = result.highest_severity
        return f"{n} finding{'s' if n != 1 else ''} (highest: {worst.label if worst else '-'}). {review}"
    if result.coverage.hunks_total and (not result.model_called or reviewed == 0):
        return f"No local findings. {review}"
    return review


def printable(text: str) -> str:
    """Control characters escaped (``\\x1b``, ``\\t``...): a path from a diff cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def render_text(result: RunResult, *, scrub: Callable[[str], str], color: bool, width: int | None = None) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        width=width or (120 if color else 200),
        emoji=False,
        soft_wrap=False,
    )
    style = box.SIMPLE if color else None

    def t(value: object, style_name: str = "") -> Text:
        return Text(printable(scrub(str(value))), style=style_name if color else "")

    console.print(t(f"reviewbot: {result.source}"))
    console.print(t(f"policy: {result.policy_source} ({result.policy_digest[:12]})"))
    routes = {r.hunk_id: r for r in result.routes}
    if result.hunks:
        table = Table(box=style, show_edge=False, pad_edge=False, title=None)
        for name in ("file", "hunk", "+/-", "lane", "rule"):
            table.add_column(name, overflow="fold")
        for h in result.hunks:
            route = routes.get(h.id)
            lane = route.lane.value if route else "?"
            rule = ""
            if route:
                rule = route.rule + (f" ({route.pattern})" if route.pattern else "")
                if route.matched_path and route.matched_path != h.path:
                    rule += f" [old path {route.matched_path}]"
            lane_style = {"security": "bold red", "general": "cyan", "skip": "dim"}.get(lane, "")
            table.add_row(t(h.path), t(h.header), t(f"+{h.added}/-{h.removed}"), t(lane, lane_style), t(rule))
        console.print(table)
    file_skips = [s for s in result.skipped if s.hunk_id is None]
    for s in file_skips:
        console.print(t(f"  skipped file {s.path}: {s.reason.value}" + (f" ({s.detail})" if s.detail else "")))

    plan = result.plan
    console.print(t(f"Budget plan ({plan.estimator} token estimate; budget {plan.budget_tokens} tokens):"))
    for lane in (Lane.SECURITY, Lane.GENERAL):
        reqs = plan.requests_for(lane)
        hunks = sum(len(r.hunk_ids) for r in reqs)
        est = sum(r.estimated_input_tokens for r in reqs)
        out = sum(r.max_output_tokens for r in reqs)
        clipped = sum(len(r.clipped) for r in reqs)
        line = f"  {lane.value}: {len(reqs)} request(s), {hunks} hunk(s), ~{est} input + {out} output tokens reserved"
        if clipped:
            line += f", {clipped} hunk(s) clipped"
        console.print(t(line))
    if result.condensed:
        console.print(t(f"  dependency changes: {len(result.condensed)} hunk(s) of lockfiles and manifests "
                        "condensed to their package changes for the model (mode condensed)"))
    over = Counter(s.lane.value if s.lane else "-" for s in plan.skipped)
    for lane_name, n in sorted(over.items()):
        console.print(t(f"  over budget: {n} {lane_name} hunk(s) could not be afforded", "yellow"))

    for e in result.escalations:
        outcome = "reviewed again by the security lane" if e.reviewed else (
            f"not reviewed again ({e.skipped.value if e.skipped else 'not sent'}"
            + (f": {e.detail}" if e.detail else "") + ")"
        )
        console.print(t(f"  escalated {e.path} {e.hunk_id}: {outcome}; reason given: {e.reason}"))
    for lane_res in result.lanes:
        served = lane_res.served_by or "nothing"
        console.print(t(f"Lane {lane_res.lane.value}: served by {served} ({lane_res.reason})"))
    if result.findings:
        ftable = Table(box=style, show_edge=False, pad_edge=False)
        for name in ("severity", "confidence", "location", "rule", "title", "source"):
            ftable.add_column(name, overflow="fold")
        for f in result.findings:
            loc = f"{f.path}:{f.start_line}" + (f"-{f.end_line}" if f.end_line != f.start_line else "")
            sev_style = "bold red" if f.severity.label in {"critical", "high"} else "yellow"
            rule = f.rule + (f" ({f.cwe})" if f.cwe else "")
            ftable.add_row(t(f.severity.label, sev_style), t(f.confidence.label), t(loc), t(rule), t(f.title),
                           t(f.source))
        console.print(ftable)
    for note in result.notes:
        console.print(t(f"note: {note}", "yellow"))
    console.print(t(coverage_line(result)))
    state_style = "green" if result.state is RunState.COMPLETE else "yellow"
    console.print(t(verdict_line(result), state_style))
    return buf.getvalue()
