"""The markdown report: honest about coverage, escapes everything untrusted, deterministic."""

from __future__ import annotations

import re
from dataclasses import replace

from reviewbot.models import (
    Confidence,
    Coverage,
    Finding,
    Lane,
    LaneResolution,
    Plan,
    RunResult,
    RunState,
    Severity,
    Usage,
    fingerprint,
)
from reviewbot.report.markdown import NotInline, ResolvedFinding, render_markdown, verdict


def finding(path: str = "src/app.py", line: int = 10, sev: Severity = Severity.HIGH, **kw: object) -> Finding:
    rule = str(kw.pop("rule", "sql-injection"))
    base = Finding(
        rule=rule,
        severity=sev,
        confidence=Confidence.MEDIUM,
        path=path,
        start_line=line,
        end_line=line + 2,
        title="SQL built from request input",
        body="The query concatenates `name`.",
        source="model:gpt-5.6-cyber",
        fingerprint=fingerprint(rule, path, f"line {line}"),
        cwe="CWE-89",
        fix="Use a parameterised query.",
        lane=Lane.SECURITY,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def result(
    findings: tuple[Finding, ...] = (),
    *,
    total: int = 5,
    reviewed: int = 5,
    skipped: tuple[tuple[str, int], ...] = (),
    model_called: bool = True,
    state: RunState = RunState.COMPLETE,
    lanes: tuple[LaneResolution, ...] = (),
    notes: tuple[str, ...] = (),
) -> RunResult:
    return RunResult(
        findings=findings,
        routes=(),
        plan=Plan(requests=(), skipped=(), budget_tokens=100_000, estimator="conservative"),
        coverage=Coverage(hunks_total=total, hunks_reviewed=reviewed, skipped_by_reason=skipped, fell_back=0),
        state=state,
        lanes=lanes,
        usage_by_lane=(("security", Usage(1200, 300, 200)), ("general", Usage(100, 50, 0))),
        model_called=model_called,
        notes=notes,
    )


def test_clean_run_says_no_findings_in_n_reviewed_hunks() -> None:
    text = render_markdown(result(reviewed=7, total=7))
    assert "No findings in 7 reviewed hunks." in text
    assert "Nothing was reviewed" not in text


def test_offline_run_never_reads_like_a_clean_review() -> None:
    text = render_markdown(result(reviewed=0, model_called=False, skipped=(("no-model", 5),)))
    assert "Nothing was reviewed by a model (no model was called; no-model: 5)" in text.replace("\\", "")
    assert "No findings" not in text


def test_all_skipped_and_empty_change_each_say_why() -> None:
    all_skipped = verdict(result(reviewed=0, skipped=(("excluded", 3), ("over-budget", 2))))
    assert "all 5 hunks were skipped" in all_skipped and "over" in all_skipped
    empty = verdict(result(total=0, reviewed=0))
    assert "no reviewable hunks" in empty
    skipped = verdict(result(state=RunState.SKIPPED, reviewed=0))
    assert skipped.startswith("**Nothing was reviewed")
    for v in (all_skipped, empty, skipped):
        assert "No findings" not in v


def test_local_findings_without_a_model_are_still_listed() -> None:
    f = finding(rule="secret/github-pat", sev=Severity.CRITICAL, source="local:secrets")
    text = render_markdown(result((f,), reviewed=0, model_called=False))
    assert "Nothing was reviewed by a model" in text and "Local checks still reported 1 finding" in text
    assert "CRITICAL" in text


def test_findings_coverage_lanes_and_budget_are_stated() -> None:
    lanes = (
        LaneResolution(Lane.SECURITY, ("gpt-5.6-cyber",), "gpt-5.5", Lane.GENERAL,
                       "fallback: denied (403 model_not_found)", access_program=None, fell_back=True),
        LaneResolution(Lane.GENERAL, ("gpt-5.5",), "gpt-5.5", Lane.GENERAL, "ok"),
    )
    r = result((finding(), finding(line=40, sev=Severity.LOW)), total=9, reviewed=6,
               skipped=(("excluded", 2), ("over-budget", 1)), lanes=lanes)
    text = render_markdown(r, estimated_cost_usd=0.0123)
    assert "2 findings (1 high, 1 low) in 6 reviewed hunks" in text
    assert "9 total, 6 reviewed, 3 skipped" in text
    assert "excluded: 2" in text and "over\\-budget: 1" in text
    assert "Fell back: the security lane was served by gpt\\-5\\.5" in text
    assert "| security | `gpt-5.6-cyber` | `gpt-5.5` |" in text
    assert "Tokens used: 1,650 of 100,000" in text and "$0.0123" in text
    assert "CWE\\-89" in text and "**Fix:**" in text and "`src/app.py` lines 10–12" in text
    # highest severity first
    assert text.index("HIGH ·") < text.index("LOW ·")


def test_untrusted_strings_are_escaped() -> None:
    evil = finding(
        path="a`b<!--x-->.py",
        title="@admin <img src=https://evil.example/x.png> #1",
        body="[x](https://evil.example/leak) <!-- reviewbot:summary -->",
        fix="| cell | break",
        source="model:<b>",
    )
    text = render_markdown(result((evil,), notes=("note @team",)))
    for bad in ("@admin", "<img", "](", "<!--", "@team", "evil.example/leak"):
        assert bad not in text, bad
    # Raw `<` only inside code spans, where GitHub renders it as text.
    outside_code = re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", text)
    assert "<" not in outside_code


def test_not_inline_and_resolved_sections() -> None:
    f1, f2 = finding(), finding(line=50, placed=False)
    text = render_markdown(
        result((f1, f2)),
        not_inline=(NotInline(f1.fingerprint, "GitHub rejected the line (422)"),),
        resolved=(ResolvedFinding("abc", "src/old.py", 3, "old issue"),),
        notices=("The token is read-only: findings are in the job summary.",),
    )
    section = text.split("### Findings not placed inline", 1)[1]
    assert "GitHub rejected the line \\(422\\)" in section
    assert "outside the diff" in section
    assert "Resolved since an earlier run" in text and "`src/old.py` line 3" in text
    assert "> The token is read\\-only" in text


def test_output_is_deterministic() -> None:
    fs = tuple(finding(path=f"f{i}.py", line=i, sev=Severity(i % 5)) for i in range(12))
    a = render_markdown(result(fs))
    b = render_markdown(result(tuple(reversed(fs))))
    assert a == b


def test_max_chars_drops_lowest_severity_details_and_says_so() -> None:
    fs = tuple(finding(path=f"f{i}.py", line=i, sev=Severity(i % 5), body="x" * 500) for i in range(40))
    full = render_markdown(result(fs))
    capped = render_markdown(result(fs), max_chars=6000)
    assert len(full) > 6000 >= len(capped)
    assert "more findings not shown here" in capped
    assert "CRITICAL" in capped
    assert capped.count("#### ") < full.count("#### ")
