from __future__ import annotations

import io
import json

import pytest

from reviewbot import audit
from reviewbot.cli import main


def write_log(path, scrub=None):
    with path.open("w") as fh:
        log = audit.AuditLog(fh, scrub=scrub, clock=lambda: 1700000000.0)
        log.append("run_start", tool_version="0", source="patch x")
        log.append("route", hunk="h1", lane="security", rule="auth")
        log.append("run_end", state="complete")
    return path


def test_chain_verifies(tmp_path):
    path = write_log(tmp_path / "a.jsonl")
    result = audit.verify(path)
    assert result.ok and result.events == 3
    assert main(["audit", "verify", str(path)]) == 0


def test_every_line_links_to_the_previous(tmp_path):
    lines = [json.loads(x) for x in write_log(tmp_path / "a.jsonl").read_text().splitlines()]
    assert lines[0]["prev"] == audit.GENESIS
    assert [ln["seq"] for ln in lines] == [0, 1, 2]
    assert all(lines[i]["prev"] == lines[i - 1]["hash"] for i in range(1, 3))


def test_edited_line_is_detected_with_its_line_number(tmp_path, capsys):
    path = write_log(tmp_path / "a.jsonl")
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"security"', '"general"')
    path.write_text("\n".join(lines) + "\n")
    result = audit.verify(path)
    assert not result.ok and result.line == 2 and "hash" in (result.error or "")
    assert main(["audit", "verify", str(path)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_removed_and_reordered_lines_are_detected(tmp_path):
    path = write_log(tmp_path / "a.jsonl")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert audit.verify(path).line == 2
    path.write_text("\n".join([lines[1], lines[0], lines[2]]) + "\n")
    assert audit.verify(path).line == 1


def test_recomputed_hash_of_edited_line_still_breaks_the_next_link(tmp_path):
    path = write_log(tmp_path / "a.jsonl")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[1]["lane"] = "general"
    del lines[1]["hash"]
    lines[1]["hash"] = audit._digest(lines[1])
    path.write_text("\n".join(audit.canonical(x) for x in lines) + "\n")
    result = audit.verify(path)
    assert not result.ok and result.line == 3


def test_empty_and_garbage_files(tmp_path):
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    assert not audit.verify(empty).ok
    garbage = tmp_path / "g.jsonl"
    garbage.write_text("not json\n")
    assert audit.verify(garbage).line == 1
    assert main(["audit", "verify", str(tmp_path / "missing.jsonl")]) == 2


def test_scrub_applies_to_every_string_field():
    buf = io.StringIO()
    log = audit.AuditLog(buf, scrub=lambda s: s.replace("SECRET", "[REDACTED]"))
    log.append("call", detail="key SECRET here", nested={"x": ["SECRET"]})
    assert "SECRET" not in buf.getvalue()


def test_show_prints_events(tmp_path, capsys):
    path = write_log(tmp_path / "a.jsonl")
    assert main(["audit", "show", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("1 route ")


def test_lines_cut_from_the_end_are_detected(tmp_path, capsys):
    # Every remaining link still verifies when the tail is cut: only a missing run_end shows it.
    path = write_log(tmp_path / "a.jsonl")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2]) + "\n")
    result = audit.verify(path)
    assert not result.ok and result.events == 2 and "run_end" in (result.error or "")
    assert main(["audit", "verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: audit log incomplete") and "run_end" in err and "Traceback" not in err


def test_an_event_after_run_end_fails_verification(tmp_path):
    # A log whose tail after run_end was cut (the publish records) would otherwise still verify.
    path = write_log(tmp_path / "a.jsonl")
    with path.open("a") as fh:
        lines = path.read_text().splitlines()
        last = json.loads(lines[-1])
        record = {"seq": 3, "ts": 1700000000.0, "event": "publish", "prev": last["hash"], "posted": 1}
        record["hash"] = audit._digest(record)
        fh.write(audit.canonical(record) + "\n")
    result = audit.verify(path)
    assert not result.ok and "does not end with a run_end" in (result.error or "")


def test_deferred_end_is_written_after_later_events(tmp_path):
    sink = io.StringIO()
    log = audit.AuditLog(sink, clock=lambda: 1.0, defer_end=True)
    log.append("run_start", source="x")
    log.append("run_end", state="complete")
    assert log.holding_end and len(log.lines) == 1
    log.append("publish", posted=2)
    log.end(published=True)
    events = [json.loads(x) for x in sink.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["run_start", "publish", "run_end"]
    assert events[-1]["state"] == "complete" and events[-1]["published"] is True
    path = tmp_path / "d.jsonl"
    path.write_text(sink.getvalue())
    assert audit.verify(path).ok
    try:
        log.append("late")
    except ValueError as exc:
        assert "after run_end" in str(exc)
    else:
        raise AssertionError("an event after run_end was accepted")


def test_a_log_nobody_asked_for_is_checked_but_not_written():
    # `reviewbot diff` without --audit: no line is built, but misuse still fails as it would with a file.
    scrubbed: list[str] = []
    log = audit.AuditLog(None, scrub=lambda s: scrubbed.append(s) or s, keep=False)
    log.append("run_start", source="x")
    log.append("route", hunk="h1", path="a.py")
    assert log.lines == [] and scrubbed == []
    with pytest.raises(ValueError, match="reserved"):
        log.append("route", seq=4)
    log.append("run_end", state="complete")
    with pytest.raises(ValueError, match="after run_end"):
        log.append("publish", posted=1)


def test_diff_without_audit_flag_still_writes_no_file_and_with_it_a_verified_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    patch = tmp_path / "p.diff"
    patch.write_text("--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n")
    assert main(["diff", "--patch", str(patch), "--offline", "--format", "json"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.diff"]
    assert main(["diff", "--patch", str(patch), "--offline", "--format", "json", "--audit", "a.jsonl"]) == 0
    result = audit.verify(tmp_path / "a.jsonl")
    assert result.ok
    events = [json.loads(x)["event"] for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert events[0] == "run_start" and "route" in events and events[-1] == "run_end"
