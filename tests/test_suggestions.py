"""One-click fix suggestions: kept from the model only when they replace exactly the quoted lines,
vetted again before posting, posted as a ```suggestion block, and mirrored as SARIF ``fixes``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from github import Github

from reviewbot.diff import parse_github_files
from reviewbot.github.client import ClientSettings, make_github
from reviewbot.github.review import ReviewPublisher, comment_body, marker
from reviewbot.lanes.findings import map_findings
from reviewbot.lanes.prompt import prepare_hunk
from reviewbot.lanes.schema import OutputInvalid, parse_output
from reviewbot.models import (
    Confidence,
    Coverage,
    Diff,
    Finding,
    Lane,
    Plan,
    RedactedText,
    RunResult,
    RunState,
    Severity,
    fingerprint,
)
from reviewbot.redact import Redactor
from reviewbot.report.sarif import render_sarif
from reviewbot.report.suggestion import Suggestion, suggestion_for
from tests import test_github_e2e as e2e
from tests.fakes.github_server import FakeGitHub, RunningFake, file_entry, serve
from tests.fakes.openai_server import running_fake
from tests.lanes_helpers import SECRET, SQL_HUNK_LINES, engine_for, make_hunk, plan_of, quoting_reply, redact

# ------------------------------------------------------------------ mapping the model's replacement

GOOD_QUOTE = "q = \"SELECT * FROM t WHERE id = \" + request.args['id']\nreturn db.query(q)"
GOOD_REPLACEMENT = "    q = \"SELECT * FROM t WHERE id = ?\"\n    return db.query(q, request.args['id'])"


def _raw(**over: Any) -> dict[str, Any]:
    return {
        "hunk_id": "h", "category": "sql-injection", "cwe": "CWE-89", "severity": "high",
        "confidence": "high", "title": "t", "explanation": "e", "source": "s", "sink": "k",
        "quote": GOOD_QUOTE, "fix": "Bind the parameter.", "replacement": GOOD_REPLACEMENT,
    } | over


def _map(lines: list[tuple[str, str]] = SQL_HUNK_LINES, **over: Any) -> Finding:
    h = make_hunk("src/db.py", lines, new_start=10)
    p = prepare_hunk(h, Lane.SECURITY, path=RedactedText(h.path), body=redact(h.body()))
    raw = parse_output(json.dumps({"findings": [_raw(hunk_id=h.id, **over)]}))
    (f,) = map_findings(
        raw, [(h, p)], model="m", lane=Lane.SECURITY, min_confidence=Confidence.LOW, scrub=redact
    ).findings
    return f


def test_a_replacement_of_exactly_the_quoted_whole_lines_is_kept() -> None:
    f = _map()
    assert (f.start_line, f.end_line, f.placed) == (11, 12, True)
    assert f.replacement == GOOD_REPLACEMENT


def test_a_final_newline_and_crlf_are_normalised() -> None:
    assert _map(replacement=GOOD_REPLACEMENT.replace("\n", "\r\n") + "\r\n").replacement == GOOD_REPLACEMENT


@pytest.mark.parametrize(
    "over",
    [
        pytest.param({"replacement": None}, id="null"),
        pytest.param({"quote": "db.query(q)"}, id="quote-is-a-fragment-of-the-line"),
        pytest.param(
            {"quote": "def find(user_id):\n    return db.query('SELECT * FROM t WHERE id = ?', user_id)"},
            id="quote-includes-a-removed-line",
        ),
        pytest.param({"quote": "not in the hunk at all"}, id="quote-not-found"),
        pytest.param({"replacement": f"    token = '{SECRET}'"}, id="replacement-holds-a-secret"),
        pytest.param({"replacement": "x" * 5000}, id="too-long"),
    ],
)
def test_a_replacement_that_cannot_replace_exactly_the_quoted_lines_is_dropped(over: dict[str, Any]) -> None:
    f = _map(**over)
    assert f.replacement is None
    assert SECRET not in json.dumps([f.title, f.body, f.fix])


def test_a_line_the_model_saw_masked_gets_no_replacement() -> None:
    lines = [(" ", "def f():"), ("+", f"    token = '{SECRET}'"), (" ", "    return token")]
    f = _map(lines, quote="token = '[REDACTED:github-pat:1]'", replacement="    token = os.environ['TOKEN']")
    assert f.placed and f.start_line == 11
    assert f.replacement is None  # the model never saw the real line: its replacement cannot be trusted


def test_the_replacement_travels_from_the_fake_model_to_the_finding() -> None:
    h = make_hunk("src/auth/db.py", SQL_HUNK_LINES)
    with running_fake() as fake:
        fake.reply = quoting_reply(GOOD_QUOTE, replacement=GOOD_REPLACEMENT + "\n")
        engine, _, _ = engine_for(fake.base_url)
        result = engine.run(plan_of((Lane.SECURITY, [h])), {h.id: h})
        (body,) = fake.bodies()
    (f,) = result.findings
    assert (f.start_line, f.end_line, f.replacement) == (11, 12, GOOD_REPLACEMENT)
    schema = body["text"]["format"]["schema"]["properties"]["findings"]["items"]
    assert "replacement" in schema["required"] and schema["properties"]["replacement"]["type"] == ["string", "null"]
    assert "replacement (only when the fix changes exactly the quoted lines" in body["instructions"]


def test_an_answer_without_the_replacement_key_is_read_as_null_but_unknown_keys_are_rejected() -> None:
    item = _raw()
    del item["replacement"]
    (raw,) = parse_output(json.dumps({"findings": [item]}))
    assert raw.replacement is None
    with pytest.raises(OutputInvalid):
        parse_output(json.dumps({"findings": [_raw(patch="x")]}))
    with pytest.raises(OutputInvalid):
        parse_output(json.dumps({"findings": [_raw(replacement=3)]}))


# ------------------------------------------------------------------ vetting before posting

APP_PATCH = (
    "@@ -1,3 +1,5 @@\n"
    " import os\n"
    "+import sqlite3\n"
    '+QUERY = "select " + name\n'
    " def main():\n"
    "     pass\n"
    "@@ -20,2 +22,3 @@\n"
    " x = 1\n"
    "+y = eval(data)\n"
    " z = 3"
)
HEAD = "c0ffee" + "0" * 34
FIX = 'import sqlite3\nQUERY = "select ?"'


def diff_of(patch: str = APP_PATCH) -> Diff:
    return parse_github_files([file_entry("src/app.py", patch)])


def finding(start: int = 2, end: int = 3, replacement: str | None = FIX, **over: Any) -> Finding:
    base = Finding(
        rule="sql-injection", severity=Severity.HIGH, confidence=Confidence.HIGH, path="src/app.py",
        start_line=start, end_line=end, title="SQL built from input @admin", body="Input reaches the query.",
        source="model:gpt-5.6-cyber", fingerprint=fingerprint("sql-injection", "src/app.py", f"s{start}"),
        cwe="CWE-89", fix="Use a bound parameter.", lane=Lane.SECURITY, replacement=replacement,
    )
    return replace(base, **over)


def test_a_good_replacement_becomes_a_suggestion_and_decorators_are_allowed() -> None:
    assert suggestion_for(finding(), diff_of().hunks) == Suggestion("src/app.py", 2, 3, FIX)
    at = finding(replacement='@app.route("/q")  # see #12\nQUERY = "select ?"')
    assert isinstance(suggestion_for(at, diff_of().hunks), Suggestion)
    same_host = finding(23, 23, "y = fetch('https://api.example.com/v2', data)")
    patch = APP_PATCH.replace("+y = eval(data)", "+y = fetch('http://api.example.com/v1', data)")
    assert isinstance(suggestion_for(same_host, diff_of(patch).hunks), Suggestion)


@pytest.mark.parametrize(
    ("f", "reason"),
    [
        (finding(replacement=None), "no replacement"),
        (finding(placed=False), "not placed"),
        (finding(3, 2), "not placed"),
        (finding(4, 6), "outside the comment's range"),  # line 6 is not in the diff
        (finding(5, 22), "outside the comment's range"),  # spans two hunks
        (finding(replacement="QUERY = [REDACTED:github-pat:1]"), "masked value"),
        (finding(replacement="QUERY = '[REDACTED:generic-secret'"), "masked value"),
        (finding(replacement="x = 1\n```\n@admin see [x](https://evil.example)\n```suggestion"), "code fence"),
        (finding(replacement="x = 1\n~~~\ny"), "code fence"),
        (finding(replacement="x = 1  <!-- reviewbot:fp=" + "a" * 32 + " -->"), "HTML comment"),
        (finding(replacement="x = 1 -->"), "HTML comment"),
        (finding(replacement="access = 'user\u202e \u2066# admin'"), "hidden or control"),
        (finding(replacement="x = 1\u200b"), "hidden or control"),
        (finding(replacement="x = 1\ry = 2"), "hidden or control"),
        (finding(replacement="import sqlite3  # https://evil.example/x.png"), "host the code does not name"),
        (finding(replacement="   \n  "), "blank"),
        (finding(replacement='import sqlite3\nQUERY = "select " + name'), "changes nothing"),
        (finding(replacement="x\n" * 300), "too long"),
    ],
)
def test_an_unsafe_or_misplaced_suggestion_is_refused(f: Finding, reason: str) -> None:
    why = suggestion_for(f, diff_of().hunks)
    assert isinstance(why, str) and reason in why


def test_a_replacement_the_redactor_would_mask_is_refused() -> None:
    masking = "select ?"  # pretend the run's redactor masks this

    def scrub(text: str) -> str:
        return text.replace(masking, "[REDACTED:x:1]")

    why = suggestion_for(finding(), diff_of().hunks, scrub=scrub)
    assert why == "it would contain a masked value"


EXPECTED_BODY = (
    "**HIGH** · confidence: high · CWE\\-89 · `sql-injection`\n"
    "\n"
    "**SQL built from input @&#8203;admin**\n"
    "\n"
    "Input reaches the query\\.\n"
    "\n"
    "**Fix:** Use a bound parameter\\.\n"
    "\n"
    "```suggestion\n"
    "import sqlite3\n"
    'QUERY = "select ?"\n'
    "```\n"
    "\n"
    "<sub>reviewbot · security lane, model\\:gpt\\-5\\.6\\-cyber</sub>\n"
)


def test_the_comment_body_carries_the_block_exactly() -> None:
    f = finding()
    s = suggestion_for(f, diff_of().hunks)
    assert isinstance(s, Suggestion)
    assert comment_body(f, scrub=Redactor().scrub, suggestion=s) == EXPECTED_BODY + marker(f.fingerprint)
    plain = comment_body(f, scrub=Redactor().scrub)
    assert "```suggestion" not in plain and plain.endswith(marker(f.fingerprint))


# ------------------------------------------------------------------ posting to the fake GitHub


@pytest.fixture
def gh() -> Iterator[tuple[RunningFake, Github]]:
    fake = FakeGitHub()
    fake.add_pull(7, head_sha=HEAD, files=[file_entry("src/app.py", APP_PATCH)])
    running = serve(fake)
    settings = ClientSettings(api_url=running.url, token=fake.token, retries=1, max_wait=5,
                              seconds_between_requests=0, seconds_between_writes=0)
    try:
        yield running, make_github(settings, sleep=lambda _s: None)
    finally:
        running.close()


def _publisher(gh: tuple[RunningFake, Github]) -> ReviewPublisher:
    running, client = gh
    repo = client.get_repo(running.fake.full_name)
    return ReviewPublisher(repo.get_pull(7), repo.get_commit(HEAD), bot_login="github-actions[bot]",
                           scrub=Redactor().scrub)


def test_the_fake_github_accepts_the_suggestion_and_stores_the_body(gh: tuple[RunningFake, Github]) -> None:
    good = finding()
    fenced = finding(23, 23, "y = 1\n```", rule="code-injection",
                     fingerprint=fingerprint("code-injection", "src/app.py", "eval"))
    result = _publisher(gh).publish([good, fenced], diff_of())
    assert sorted(result.posted) == sorted([good.fingerprint, fenced.fingerprint]) and not result.not_inline
    comments = {c.line: c for c in gh[0].fake.pulls[7].review_comments}
    assert comments[3].start_line == 2 and comments[3].body == EXPECTED_BODY + marker(good.fingerprint)
    assert "suggestion" not in comments[23].body and "```" not in comments[23].body


def test_a_range_github_rejects_is_retried_on_its_last_line_without_the_suggestion(
    gh: tuple[RunningFake, Github],
) -> None:
    # Our analysis saw one hunk over lines 1-24; the PR's diff now has two, so 2..22 spans them.
    stale = "@@ -0,0 +1,24 @@\n" + "".join(f"+line {n}\n" for n in range(1, 25)).rstrip("\n")
    f = finding(2, 22, "line two\n" * 20 + "line 22")
    assert isinstance(suggestion_for(f, diff_of(stale).hunks), Suggestion)
    result = _publisher(gh).publish([f], diff_of(stale))
    assert result.posted == (f.fingerprint,)
    (posted,) = gh[0].fake.pulls[7].review_comments
    assert (posted.line, posted.start_line) == (22, None)
    assert "```suggestion" not in posted.body and "**Fix:** Use a bound parameter" in posted.body


# ------------------------------------------------------------------ SARIF fixes

# The parts of the SARIF 2.1.0 schema (docs.oasis-open.org/sarif/sarif/v2.1.0, §3.55-3.57, §3.30)
# that a fix uses, transcribed: no SARIF schema ships in our offline dependencies.
_REGION = {
    "type": "object", "additionalProperties": False,
    "properties": {"startLine": {"type": "integer", "minimum": 1}, "endLine": {"type": "integer", "minimum": 1},
                   "startColumn": {"type": "integer", "minimum": 1}, "endColumn": {"type": "integer", "minimum": 1}},
}
FIX_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["artifactChanges"],
    "properties": {
        "description": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
        "artifactChanges": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["artifactLocation", "replacements"],
            "properties": {
                "artifactLocation": {"type": "object", "additionalProperties": False,
                                     "properties": {"uri": {"type": "string"}, "uriBaseId": {"type": "string"}}},
                "replacements": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False, "required": ["deletedRegion"],
                    "properties": {
                        "deletedRegion": _REGION,
                        "insertedContent": {"type": "object", "additionalProperties": False,
                                            "properties": {"text": {"type": "string"}}},
                    }}},
            }}},
    },
}


def _sarif(findings: tuple[Finding, ...], diff: Diff) -> dict[str, Any]:
    result = RunResult(
        findings=findings, routes=(), plan=Plan((), (), 1000, "conservative"), coverage=Coverage(2, 2, ()),
        state=RunState.COMPLETE, model_called=True, hunks=diff.hunks,
    )
    return render_sarif(result)


def test_sarif_carries_a_fix_exactly_when_the_comment_offers_a_suggestion() -> None:
    import jsonschema

    good = finding()
    refused = [
        finding(22, 22, "y = 1\n```", fingerprint="1" * 32),
        finding(22, 22, None, fingerprint="2" * 32),
        finding(4, 6, fingerprint="3" * 32),
    ]
    diff = diff_of()
    run = _sarif((good, *refused), diff)["runs"][0]
    results = {r["partialFingerprints"]["reviewbot/v1"]: r for r in run["results"]}
    for f in (good, *refused):
        offered = isinstance(suggestion_for(f, diff.hunks), Suggestion)
        assert ("fixes" in results[f.fingerprint]) is offered, f
    (fix,) = results[good.fingerprint]["fixes"]
    jsonschema.validate(fix, FIX_SCHEMA)
    assert fix == {
        "description": {"text": "Use a bound parameter."},
        "artifactChanges": [{
            "artifactLocation": {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"},
            "replacements": [{"deletedRegion": {"startLine": 2, "endLine": 3}, "insertedContent": {"text": FIX}}],
        }],
    }


def test_sarif_without_the_diff_hunks_offers_no_fix() -> None:
    (r,) = _sarif((finding(),), Diff(()))["runs"][0]["results"]
    assert "fixes" not in r


# ------------------------------------------------------------------ the Action, end to end

world = e2e.world  # the fake GitHub + workflow environment of the Action's end-to-end tests
keyed = e2e.keyed  # ... with the fake OpenAI and a key


def test_the_action_posts_the_models_suggestion_and_the_sarif_fix(
    keyed: e2e.World, capsys: pytest.CaptureFixture[str]
) -> None:
    def reply(body: dict[str, Any]) -> str:
        text = e2e.model_reply(body)
        if text == "pong":  # the probe
            return text
        out = json.loads(text)
        for f in out["findings"]:
            if "eval" in f["quote"]:
                f["replacement"] = "    state = json.loads(data)\n"
            else:  # the SQL finding: a fence would break out of the block, so it gets none
                f["replacement"] = "    q = 1\n```\n@admin"
        return json.dumps(out)

    assert keyed.openai is not None
    keyed.openai.reply = reply
    code, _, _ = keyed.run(capsys=capsys)
    assert code == 1
    (review,) = e2e.review_posts(keyed)
    by_line = {c["line"]: c["body"] for c in review.body["comments"]}
    assert "```suggestion\n    state = json.loads(data)\n```\n" in by_line[23]
    assert "suggestion" not in by_line[3] and "```" not in by_line[3]
    sarif = json.loads(Path(keyed.outputs()["sarif-file"]).read_text())
    fixes = {r["locations"][0]["physicalLocation"]["region"]["startLine"]: r.get("fixes")
             for r in sarif["runs"][0]["results"]}
    assert fixes[3] is None
    (fix,) = fixes[23]
    (change,) = fix["artifactChanges"]
    assert change["replacements"] == [
        {"deletedRegion": {"startLine": 23, "endLine": 23}, "insertedContent": {"text": "    state = json.loads(data)"}}
    ]
