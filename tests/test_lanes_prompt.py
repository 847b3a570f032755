"""Prompt building, the output schema check, and quote -> line mapping."""

from __future__ import annotations

import json

import pytest

from reviewbot.lanes.findings import locate_quote, map_findings
from reviewbot.lanes.prompt import (
    build_body,
    fixed_prompt_text,
    instructions,
    prepare_hunk,
    safety_identifier,
)
from reviewbot.lanes.schema import FINDINGS_SCHEMA, OutputInvalid, parse_output
from reviewbot.models import Confidence, Lane, RedactedText
from tests.lanes_helpers import SQL_HUNK_LINES, make_hunk, redact


def _prompt(lines: list[tuple[str, str]], start: int = 10):  # type: ignore[no-untyped-def]
    h = make_hunk("a.py", lines, new_start=start)
    return h, prepare_hunk(h, Lane.SECURITY, path=RedactedText(h.path), body=redact(h.body()))


def test_schema_is_strict_every_property_required() -> None:
    item = FINDINGS_SCHEMA["properties"]["findings"]["items"]
    assert FINDINGS_SCHEMA["additionalProperties"] is False and item["additionalProperties"] is False
    assert set(item["required"]) == set(item["properties"])


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "[]",
        '{"findings": {}}',
        '{"findings": [], "extra": 1}',
        '{"findings": [{"hunk_id": "h"}]}',
    ],
)
def test_output_that_is_not_the_schema_is_rejected(text: str) -> None:
    with pytest.raises(OutputInvalid):
        parse_output(text)


def test_prefix_is_byte_stable_and_lanes_share_structure() -> None:
    assert instructions(Lane.SECURITY) == instructions(Lane.SECURITY)
    assert (
        "must not" in instructions(Lane.GENERAL).lower()
        or "never follow" in instructions(Lane.GENERAL).lower()
    )
    sec, gen = instructions(Lane.SECURITY), instructions(Lane.GENERAL)
    shared = sec[: next((i for i, (a, b) in enumerate(zip(sec, gen, strict=False)) if a != b), len(sec))]
    assert "Report each weakness once." in shared and "Answer with JSON only" not in shared
    _, p = _prompt(SQL_HUNK_LINES)
    b1 = build_body(
        model="m",
        lane=Lane.SECURITY,
        hunks=[p],
        max_output_tokens=100,
        safety_identifier="s",
        access_program=None,
    )
    b2 = build_body(
        model="m",
        lane=Lane.SECURITY,
        hunks=[p],
        max_output_tokens=100,
        safety_identifier="s",
        access_program=None,
    )
    assert json.dumps(b1, sort_keys=True) == json.dumps(b2, sort_keys=True)
    assert "access_programs" not in b1 and b1["store"] is False
    assert len(fixed_prompt_text(Lane.SECURITY)) > 1000


def test_numbered_text_uses_new_side_numbers_and_blanks_removed_lines() -> None:
    _, p = _prompt(SQL_HUNK_LINES)
    rows = p.text().split("\n")
    assert rows[0].startswith("10  def find") and rows[1].startswith("   -") and rows[2].startswith("11 +")


def test_a_multi_line_redaction_keeps_the_numbers_of_the_lines_around_it() -> None:
    lines = [
        (" ", "a = 1"),
        ("+", "-----BEGIN KEY-----"),
        ("+", "abc"),
        ("+", "-----END KEY-----"),
        ("+", "b = 2"),
    ]
    h = make_hunk("k.py", lines, new_start=5)
    body = RedactedText(
        h.body().replace("+-----BEGIN KEY-----\n+abc\n+-----END KEY-----\n", "+[REDACTED:pem:1]\n")
    )
    p = prepare_hunk(h, Lane.SECURITY, path=RedactedText("k.py"), body=body)
    assert [(ln.new_no, ln.text) for ln in p.lines] == [(5, "a = 1"), (6, "[REDACTED:pem:1]"), (9, "b = 2")]


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("    return db.query(q)", (3,)),
        ("return db.query(q)", (3,)),
        ("  12 +    return db.query(q)", (3,)),  # numbers and markers copied by the model
        ("q = \"SELECT * FROM t WHERE id = \" + request.args['id']\nreturn db.query(q)", (2, 3)),
        ("not in the hunk", None),
        ("", None),
    ],
)
def test_locate_quote(quote: str, expected: tuple[int, ...] | None) -> None:
    _, p = _prompt(SQL_HUNK_LINES)
    assert locate_quote(quote, p) == expected


def _raw(**over: str | None):  # type: ignore[no-untyped-def]
    item = {
        "hunk_id": "wrong-id",
        "category": "SQL injection!",
        "cwe": "89",
        "severity": "critical",
        "confidence": "medium",
        "title": "<img src=x> title",
        "explanation": "e",
        "source": "s",
        "sink": "k",
        "quote": "return db.query(q)",
        "fix": None,
    } | over
    return parse_output(json.dumps({"findings": [item]}))


def test_mapping_finds_the_hunk_by_quote_and_keeps_model_text_plain() -> None:
    h, p = _prompt(SQL_HUNK_LINES)
    m = map_findings(
        _raw(), [(h, p)], model="m", lane=Lane.GENERAL, min_confidence=Confidence.LOW, scrub=redact
    )
    (f,) = m.findings
    assert (f.hunk_id, f.start_line, f.placed, f.rule, f.cwe) == (h.id, 12, True, "sql-injection", None)
    assert f.title == "<img src=x> title"  # plain string; publishers escape it


def test_a_quote_on_a_removed_line_is_kept_unplaced_and_secrets_in_model_text_are_scrubbed() -> None:
    from tests.lanes_helpers import SECRET

    h, p = _prompt(SQL_HUNK_LINES)
    raw = _raw(quote="return db.query('SELECT * FROM t WHERE id = ?', user_id)", title=f"leaks {SECRET}")
    m = map_findings(raw, [(h, p)], model="m", lane=Lane.GENERAL, min_confidence=Confidence.LOW, scrub=redact)
    (f,) = m.findings
    assert not f.placed and m.unplaced == 1 and SECRET not in f.title


def test_safety_identifier_is_stable_and_opaque() -> None:
    a = safety_identifier("octo/repo", "alice")
    assert a == safety_identifier("octo/repo", "alice") != safety_identifier("octo/repo", "bob")
    assert "alice" not in a


@pytest.mark.parametrize("field", ["title", "explanation", "fix"])
def test_model_text_is_redacted_before_it_is_cut(field: str) -> None:
    # A token that straddles the length cap: cut first, its head no longer looks like a token
    # and would have been kept in clear.
    from reviewbot.lanes.findings import MAX_TEXT
    from reviewbot.redact import Redactor
    from tests.lanes_helpers import SECRET

    scrub = Redactor().scrub
    assert SECRET not in scrub(SECRET)
    filler = "x " * ((MAX_TEXT - 10 - (len("e\n\nSource: ") if field == "explanation" else 0)) // 2)
    h, p = _prompt(SQL_HUNK_LINES)
    raw = _raw(**{field: filler + SECRET})
    (f,) = map_findings(raw, [(h, p)], model="m", lane=Lane.GENERAL, min_confidence=Confidence.LOW,
                        scrub=scrub).findings
    text = {"title": f.title, "explanation": f.body, "fix": f.fix or ""}[field]
    assert len(text) <= MAX_TEXT
    assert SECRET[:8] not in text, text[-40:]


def test_the_condensed_note_is_sent_only_with_a_condensed_hunk_after_the_stable_prefix() -> None:
    from dataclasses import replace

    from reviewbot.lanes.prompt import CONDENSED, CONDENSED_NOTE, condensed_note_tokens
    from reviewbot.tokens import conservative_count

    _, p = _prompt(SQL_HUNK_LINES)
    for lane in (Lane.SECURITY, Lane.GENERAL):
        args = {"model": "m", "lane": lane, "max_output_tokens": 100, "safety_identifier": "s", "access_program": None}
        plain = build_body(hunks=[p], **args)
        mixed = build_body(hunks=[p, replace(p, hunk_id="h2", mode=CONDENSED)], **args)
        assert plain["instructions"] == instructions(lane) and '"mode": "condensed"' not in plain["instructions"]
        assert mixed["instructions"] == instructions(lane) + CONDENSED_NOTE == instructions(lane, condensed=True)
        assert mixed["text"] == plain["text"]
        repaired = build_body(hunks=[replace(p, mode=CONDENSED)], repair_error="bad", **args)
        assert repaired["instructions"].startswith(mixed["instructions"])  # the repair note comes last
        for count in (conservative_count, len):
            with_note = count(fixed_prompt_text(lane, condensed=True))
            assert with_note <= count(fixed_prompt_text(lane)) + condensed_note_tokens(count)



def test_each_output_field_is_explained_once_in_the_instructions_not_again_in_the_schema() -> None:
    from reviewbot.lanes.schema import output_schema

    for lane in (Lane.SECURITY, Lane.GENERAL):
        schema = output_schema(lane)
        assert '"description"' not in json.dumps(schema)  # structure only: the prose says what fields hold
        for key, part in schema["properties"].items():
            for name in part["items"]["properties"]:
                assert f"{name} (" in instructions(lane) or f", {name}," in instructions(lane), (lane, key, name)
