"""Workflow outputs: ``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``, annotations, safe echoes of untrusted text.

* Outputs use the heredoc form ``name<<DELIM`` with a random delimiter that does
  not occur in the value, so a value cannot inject another output.
* The step summary stays under GitHub's 1 MiB limit, cut at a line with a note.
* ``::error``/``::warning``/``::notice`` annotations escape ``%``, CR, LF (data) and
  also ``:`` and ``,`` (properties); at most 10 per level per step.
* Untrusted text echoed to the log is wrapped in ``::stop-commands::<token>`` so
  it cannot issue workflow commands.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..models import Finding, RunResult, Severity
from ..report.sanitize import strip_hidden

STEP_SUMMARY_LIMIT = 1024 * 1024
STEP_SUMMARY_MARGIN = 16 * 1024
ANNOTATIONS_PER_LEVEL = 10
OUTPUT_NAMES = (
    "findings",
    "highest-severity",
    "state",
    "sarif-file",
    "audit-file",
    "escalated",
    "escalated-reviewed",
    "escalated-over-budget",
)

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_outputs(values: Mapping[str, str]) -> str:
    """``name<<DELIM`` blocks, sorted by name; each delimiter is random and absent from its value."""
    blocks: list[str] = []
    for name in sorted(values):
        if not name or any(c in name for c in "\r\n<="):
            raise ValueError(f"bad output name: {name!r}")
        value = str(values[name])
        delim = f"ghadelimiter_{secrets.token_hex(16)}"
        while delim in value:
            delim = f"ghadelimiter_{secrets.token_hex(16)}"
        blocks.append(f"{name}<<{delim}\n{value}\n{delim}\n")
    return "".join(blocks)


def escalation_outputs(result: RunResult | None) -> dict[str, str]:
    """Hunks the general model escalated, reviewed again by the security lane, and not afforded (counts)."""
    cov = result.coverage if result is not None else None
    return {
        "escalated": str(cov.escalated if cov else 0),
        "escalated-reviewed": str(cov.escalated_reviewed if cov else 0),
        "escalated-over-budget": str(cov.escalated_over_budget if cov else 0),
    }


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(format_outputs(values))


def fit_step_summary(
    markdown: str, limit: int = STEP_SUMMARY_LIMIT - STEP_SUMMARY_MARGIN
) -> tuple[str, bool]:
    """The markdown within ``limit`` bytes (UTF-8), cut at a line with a note when needed."""
    data = markdown.encode("utf-8")
    if len(data) <= limit:
        return markdown, False
    note = (
        "\n\n_The job summary was cut at GitHub's 1 MiB limit: "
        "the full report is in the workflow artifact._\n"
    )
    room = limit - len(note.encode("utf-8"))
    head = data[:room].decode("utf-8", errors="ignore")
    cut = head.rfind("\n")
    return head[: max(cut, 0)] + note, True


def append_step_summary(path: Path, markdown: str) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` (room left by earlier steps counted); True when cut."""
    used = path.stat().st_size if path.exists() else 0
    text, cut = fit_step_summary(markdown, max(0, STEP_SUMMARY_LIMIT - STEP_SUMMARY_MARGIN - used))
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return cut


def annotation_lines(findings: Sequence[Finding], *, per_level: int = ANNOTATIONS_PER_LEVEL) -> list[str]:
    """Workflow-command annotations for the highest findings, at most ``per_level`` per level."""
    out: list[str] = []
    counts: dict[str, int] = {}
    for f in sorted(findings, key=Finding.sort_key):
        level = _LEVEL[f.severity]
        if counts.get(level, 0) >= per_level:
            continue
        counts[level] = counts.get(level, 0) + 1
        title = f"reviewbot {f.severity.label}: {strip_hidden(f.rule)}"[:200]
        props = (
            f"file={escape_property(strip_hidden(f.path))},line={max(1, f.start_line)},"
            f"endLine={max(f.start_line, f.end_line)},title={escape_property(title)}"
        )
        message = strip_hidden(f"{f.title} ({f.confidence.label} confidence)")[:1000]
        out.append(f"::{level} {props}::{escape_data(message)}")
    return out


def stop_commands(text: str, token: str | None = None) -> str:
    """``text`` between ``::stop-commands::TOKEN`` and ``::TOKEN::``: the runner ignores commands inside."""
    token = token or secrets.token_hex(16)
    while token in text:
        token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}\n::{token}::"
