"""SARIF 2.1.0 for GitHub code scanning: one rule per finding category, stable partialFingerprints.

Text fields in SARIF are shown by code scanning as plain text or markdown; we
give plain text only (``message.text``), with hidden carriers stripped and
lengths capped. Output is deterministic: rules and results are sorted. A result has a
``fixes`` entry exactly when its inline comment offers a one-click suggestion on the
analysed diff (:func:`~reviewbot.report.suggestion.suggestion_for`; a range GitHub later
rejects is posted on its last line without one, the SARIF fix stays); the replaced region is whole
lines, so the inserted text has no final newline (SARIF §3.30: a region without
columns ends before the newline of its last line).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..models import Finding, Hunk, RunResult, Severity
from .sanitize import cap, strip_hidden
from .suggestion import Suggestion, suggestion_for

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "reviewbot"
FINGERPRINT_KEY = "reviewbot/v1"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads `security-severity` (0.0-10.0) from rule properties.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _text(value: str, limit: int) -> str:
    return cap(strip_hidden(value), limit)


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    worst = max(findings, key=lambda f: (int(f.severity), f.fingerprint))
    cwes = sorted({f.cwe for f in findings if f.cwe})
    tags = ["security", *(_text(c, 40) for c in cwes)]
    help_text = (
        f"reviewbot category {rule_id!r}. Findings come from a model reviewing the pull request's diff "
        "(or from local checks such as committed secrets); each result states severity and confidence "
        "separately. Review the code at the location and apply the suggested fix."
    )
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": _text(f"reviewbot: {rule_id}", 200)},
        "fullDescription": {"text": _text(worst.title, 1000)},
        "help": {"text": _text(help_text, 2000)},
        "defaultConfiguration": {"level": _LEVEL[worst.severity]},
        "properties": {
            "tags": tags,
            "security-severity": _SECURITY_SEVERITY[worst.severity],
        },
    }


def _artifact(path: str) -> dict[str, str]:
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


def _fix(f: Finding, s: Suggestion) -> dict[str, Any]:
    description = f.fix.strip() if f.fix and f.fix.strip() else "Replace the lines with the suggested code."
    return {
        "description": {"text": _text(description, 2000)},
        "artifactChanges": [
            {
                "artifactLocation": _artifact(s.path),
                "replacements": [
                    {
                        "deletedRegion": {"startLine": s.start_line, "endLine": s.end_line},
                        "insertedContent": {"text": s.text},
                    }
                ],
            }
        ],
    }


def _result(f: Finding, rule_index: int, hunks: Sequence[Hunk] = ()) -> dict[str, Any]:
    message = f.title.strip()
    if f.body.strip():
        message += "\n\n" + f.body.strip()
    if f.fix:
        message += "\n\nFix: " + f.fix.strip()
    props: dict[str, Any] = {
        "severity": f.severity.label,
        "confidence": f.confidence.label,
        "source": _text(f.source, 200),
    }
    if f.cwe:
        props["cwe"] = _text(f.cwe, 40)
    if f.lane is not None:
        props["lane"] = f.lane.value
    start = max(1, f.start_line)
    end = max(start, f.end_line)
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": _text(message, 8000)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(f.path),
                    "region": {"startLine": start, "endLine": end},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": props,
    }
    suggestion = suggestion_for(f, hunks)
    if isinstance(suggestion, Suggestion):
        out["fixes"] = [_fix(f, suggestion)]
    return out


def render_sarif(result: RunResult) -> dict[str, Any]:
    """The SARIF log as a dict (serialise with ``json.dumps(..., indent=2, sort_keys=True)``)."""
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule, []).append(f)
    rule_ids = sorted(by_rule)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    findings = sorted(result.findings, key=Finding.sort_key)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rid, by_rule[rid]) for rid in rule_ids],
            }
        },
        "results": [_result(f, index[f.rule], result.hunks) for f in findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "state": result.state.value,
            "hunksTotal": result.coverage.hunks_total,
            "hunksReviewed": result.coverage.hunks_reviewed,
            "modelCalled": result.model_called,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
