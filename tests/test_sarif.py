"""SARIF 2.1.0: required structure, one rule per category, stable fingerprints, deterministic."""

from __future__ import annotations

import json

from reviewbot import __version__
from reviewbot.models import (
    Confidence,
    Coverage,
    Finding,
    Lane,
    Plan,
    RunResult,
    RunState,
    Severity,
    fingerprint,
)
from reviewbot.report.sarif import FINGERPRINT_KEY, render_sarif


def finding(rule: str, path: str, line: int, sev: Severity) -> Finding:
    return Finding(
        rule=rule, severity=sev, confidence=Confidence.HIGH, path=path, start_line=line, end_line=line + 1,
        title=f"{rule} in {path}", body="Explanation\u200b with a hidden char.", source="model:m",
        fingerprint=fingerprint(rule, path, "snippet"), cwe="CWE-79", fix="Escape it.", lane=Lane.SECURITY,
    )


def result(findings: tuple[Finding, ...]) -> RunResult:
    return RunResult(
        findings=findings, routes=(), plan=Plan((), (), 1000, "conservative"),
        coverage=Coverage(3, 3, ()), state=RunState.COMPLETE, model_called=True,
    )


FINDINGS = (
    finding("xss", "web/a b.js", 3, Severity.MEDIUM),
    finding("sql-injection", "db.py", 9, Severity.CRITICAL),
    finding("xss", "web/c.js", 1, Severity.LOW),
)


def test_required_structure_and_levels() -> None:
    log = render_sarif(result(FINDINGS))
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "reviewbot" and driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == ["sql-injection", "xss"]
    for rule in driver["rules"]:
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert levels == {("sql-injection", "error"), ("xss", "warning"), ("xss", "note")}
    for r in run["results"]:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"]
        assert r["message"]["text"] and "\u200b" not in r["message"]["text"]
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"])
    assert uris == ["db.py", "web/a%20b.js", "web/c.js"]


def test_fingerprints_are_the_findings_and_output_is_deterministic() -> None:
    a = render_sarif(result(FINDINGS))
    b = render_sarif(result(tuple(reversed(FINDINGS))))
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    fps = {r["partialFingerprints"][FINGERPRINT_KEY] for r in a["runs"][0]["results"]}
    assert fps == {f.fingerprint for f in FINDINGS}


def test_empty_result_is_a_valid_empty_run() -> None:
    log = render_sarif(result(()))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_minimal_schema_subset_validates() -> None:
    # No SARIF schema ships on PyPI in our dependencies: check the parts code scanning requires.
    import jsonschema

    schema = {
        "type": "object",
        "required": ["version", "runs"],
        "properties": {
            "version": {"const": "2.1.0"},
            "runs": {"type": "array", "items": {
                "type": "object", "required": ["tool", "results"],
                "properties": {
                    "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                        "type": "object", "required": ["name"],
                        "properties": {"rules": {"type": "array", "items": {"required": ["id"]}}}}}},
                    "results": {"type": "array", "items": {
                        "type": "object", "required": ["message", "ruleId", "locations"],
                        "properties": {
                            "level": {"enum": ["none", "note", "warning", "error"]},
                            "message": {"required": ["text"]},
                            "partialFingerprints": {"type": "object",
                                                    "additionalProperties": {"type": "string"}},
                        }}},
                }}},
        },
    }
    jsonschema.validate(render_sarif(result(FINDINGS)), schema)
