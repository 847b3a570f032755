"""Condensed dependency changes in a review run, against the loopback fake model server.

A lockfile or manifest hunk routed to a model lane reaches it as its package changes, not as its
raw lines; a hunk the parser cannot read goes raw, with a note; findings quoting a package's line
of the list are placed on the lockfile line naming the package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewbot import tokens
from reviewbot.audit import verify
from reviewbot.cli import main
from reviewbot.diff import parse_diff
from reviewbot.lanes.prompt import CONDENSED_NOTE, fixed_prompt_text, instructions, prepare_hunk
from reviewbot.models import Lane, RedactedText
from reviewbot.tokens import get_estimator
from tests.fakes.github_server import file_entry
from tests.fakes.openai_server import FakeOpenAI, count_tokens, input_text, review_output, running_fake
from tests.test_deps import CORRUPT_CARGO_LOCK, NPM, fix_counts
from tests.test_github_e2e import HEAD1, World, review_posts, world  # noqa: F401  (the fake GitHub world fixture)

KEY = "sk-proj-condensed-deps-test-key-000000"
SECURITY = "gpt-5.5-cyber-preview"


def _integrity(name: str, version: str) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(f"{name}@{version}".encode()).digest()).decode()


def npm_upgrades(n: int) -> str:
    """A package-lock.json diff upgrading ``n`` packages in one hunk (version, tarball, integrity)."""
    lines = ["diff --git a/package-lock.json b/package-lock.json", "--- a/package-lock.json",
             "+++ b/package-lock.json", "@@ -100 +100 @@"]
    for i in range(n):
        name, old, new = f"pkg-{i:02d}", f"1.0.{i}", f"1.1.{i}"
        lines += [f'     "node_modules/{name}": {{']
        for mark, version in (("-", old), ("+", new)):
            lines += [
                f'{mark}      "version": "{version}",',
                f'{mark}      "resolved": "https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",',
                f'{mark}      "integrity": "{_integrity(name, version)}",',
            ]
        lines += ['       "dev": true', "     },"]
    return fix_counts("\n".join(lines) + "\n")


CORRUPT = fix_counts(CORRUPT_CARGO_LOCK)


def _hunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(json.loads(input_text(body))["hunks"])


def _list_line(hunk: dict[str, Any], needle: str) -> str:
    """The line of a condensed hunk's list holding ``needle``, as the model would copy it (no number)."""
    line = next(ln for ln in hunk["text"].splitlines() if needle in ln)
    return re.sub(r"^\s*\d*\s", "", line, count=1)


class Model:
    """The fake security model: a finding on the packages named in ``quote_for`` (needle -> quote)."""

    def __init__(self, *needles: str, stray: bool = False) -> None:
        self.needles = needles
        self.stray = stray  # also a finding whose quote is nowhere in the data

    def __call__(self, body: dict[str, Any]) -> str:
        if input_text(body) == "ping":
            return "pong"
        findings = []
        for hunk in _hunks(body):
            for needle in self.needles:
                if hunk.get("mode") == "condensed" and needle in hunk["text"]:
                    findings.append(self._finding(hunk["hunk_id"], _list_line(hunk, needle)))
            if self.stray and hunk.get("mode") == "condensed":
                findings.append(self._finding(hunk["hunk_id"], '"node_modules/not-in-this-change": {'))
                self.stray = False
        return review_output(body, findings)

    @staticmethod
    def _finding(hunk_id: str, quote: str) -> dict[str, Any]:
        return {
            "hunk_id": hunk_id, "category": "supply-chain", "cwe": "CWE-829", "severity": "high",
            "confidence": "high", "title": "Package resolved from outside the registry",
            "explanation": "The lockfile now installs code from a source nobody reviewed.", "source": "lockfile",
            "sink": "npm install", "quote": quote, "fix": None, "replacement": "anything",
        }


@pytest.fixture(autouse=True)
def conservative_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REVIEWBOT_TOKENIZER", "conservative")
    tokens.reset_cache()
    yield
    tokens.reset_cache()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with running_fake(reply=Model()) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server
        assert not server.schema_errors


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, patch: str, *extra: str) -> dict[str, Any]:
    path = tmp_path / "change.diff"
    path.write_text(patch)
    code = main(["diff", "--patch", str(path), "--format", "json", "--fail-on", "none", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return dict(json.loads(out))


def reviews(fake: FakeOpenAI) -> list[dict[str, Any]]:
    return [b for b in fake.bodies() if input_text(b) != "ping"]


def test_the_security_lane_gets_the_condensed_list_not_the_raw_hashes(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    patch = npm_upgrades(40)
    audit = tmp_path / "audit.jsonl"
    data = run(capsys, tmp_path, patch, "--audit", str(audit))

    (body,) = reviews(fake)
    assert body["model"] == SECURITY
    (hunk,) = _hunks(body)
    assert hunk["mode"] == "condensed" and hunk["path"] == "package-lock.json"
    assert "^ upgraded pkg-07 1.0.7 -> 1.1.7" in hunk["text"]
    assert "integrity" not in hunk["text"] and "sha512-" not in json.dumps(body)
    assert _integrity("pkg-07", "1.1.7") not in json.dumps(body)

    # What was estimated and what was sent are a fraction of the raw hunk's tokens.
    (parsed,) = parse_diff(patch).hunks
    estimator = get_estimator(allow_download=True)  # the estimator the run planned with
    assert data["budget"]["estimator"] == estimator.name == "conservative"
    raw_text = prepare_hunk(parsed, Lane.SECURITY, path=RedactedText(parsed.path), body=RedactedText(parsed.body()))
    raw_tokens = estimator.count(raw_text.text())
    (request,) = data["plan"]["requests"]
    estimated = request["estimated_input_tokens"] - estimator.count(fixed_prompt_text(Lane.SECURITY))
    assert estimated * 5 < raw_tokens
    # The note on condensed hunks comes after the lane's byte-stable prefix, and the plan counted it:
    # the engine's estimate of what was sent is within what the plan reserved for it.
    assert body["instructions"] == instructions(Lane.SECURITY, condensed=True)
    assert body["instructions"] == instructions(Lane.SECURITY) + CONDENSED_NOTE
    with_note = estimator.count(fixed_prompt_text(Lane.SECURITY, condensed=True))
    assert request["estimated_input_tokens"] >= with_note + estimator.count(hunk["text"])
    usage = fake.usages[-1]  # the review call comes after the probes
    sent = usage["input_tokens"] - count_tokens(body["instructions"] + json.dumps(body["text"], sort_keys=True))
    assert sent * 5 < count_tokens(raw_text.text())

    assert data["coverage"]["hunks_reviewed"] == 1 and data["coverage"]["condensed"] == 1
    assert [h["mode"] for h in data["hunks"]] == ["condensed"]
    assert data["state"] == "complete"
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    assert verify(audit).ok
    (condensed,) = [e for e in events if e["event"] == "condensed"]
    assert condensed["hunks"] == [parsed.id] and condensed["raw"] == [] and condensed["changes"] == 40
    assert events[-1]["coverage"]["condensed"] == 1
    assert "pkg-07" not in audit.read_text()  # the audit holds decisions, not diff text


def test_other_hunks_of_the_change_still_go_raw(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = "diff --git a/src/auth/x.py b/src/auth/x.py\n--- a/src/auth/x.py\n+++ b/src/auth/x.py\n" \
           "@@ -1,2 +1,3 @@\n a = 1\n+b = 2\n c = 3\n"
    data = run(capsys, tmp_path, fix_counts(NPM) + code)
    hunks = [h for b in reviews(fake) for h in _hunks(b)]
    modes = sorted((h["path"], h.get("mode", "raw")) for h in hunks)
    assert modes == [*[("package-lock.json", "condensed")] * 4, ("src/auth/x.py", "raw")]
    assert data["coverage"] == {**data["coverage"], "hunks_reviewed": 5, "condensed": 4}
    assert sorted(h["mode"] for h in data["hunks"]) == ["condensed"] * 4 + ["raw"]
    assert main(["diff", "--patch", str(tmp_path / "change.diff"), "--fail-on", "none"]) == 0
    assert "5 reviewed by a model (4 as condensed dependency changes)" in capsys.readouterr().out


def test_a_corrupt_lockfile_hunk_is_sent_raw_with_a_note(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = run(capsys, tmp_path, CORRUPT)
    (body,) = reviews(fake)
    (hunk,) = _hunks(body)
    assert "mode" not in hunk and "garbage line seven" in hunk["text"]
    assert any("Cargo.lock" in n and "sent as raw hunks" in n for n in data["notes"])
    assert [h["mode"] for h in data["hunks"]] == ["raw"]
    assert data["coverage"]["hunks_reviewed"] == 1 and data["coverage"]["condensed"] == 0


def test_a_finding_quoting_a_package_line_is_placed_on_the_line_naming_it(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake.reply = Model("left-pad", "integrity-changed ms", stray=True)
    patch = fix_counts(NPM)
    data = run(capsys, tmp_path, patch)
    naming = {
        name: next(ln.new_no for h in parse_diff(patch).hunks for ln in h.lines if f'"node_modules/{name}"' in ln.text)
        for name in ("left-pad", "ms")
    }
    placed = {(f["start_line"], f["end_line"]) for f in data["findings"] if f["placed"]}
    assert placed == {(naming["left-pad"],) * 2, (naming["ms"],) * 2}
    (stray,) = [f for f in data["findings"] if not f["placed"]]  # a quote of nothing in the hunk: kept, unplaced
    assert stray["path"] == "package-lock.json"


def test_a_lockfile_hunk_holding_a_secret_goes_raw_and_redacted(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = "ghp_" + "Zq8xW3vN5mK2pL7rT9yB4cD6fG1hJ0sA3eU5"
    patch = fix_counts(NPM).replace(
        "git+ssh://git@github.com/someone/left-pad.git#5d4f1a2", f"https://x:{token}@github.com/someone/left-pad.git"
    )
    data = run(capsys, tmp_path, patch)
    sent = json.dumps(reviews(fake))
    assert token not in sent and "[REDACTED:" in sent
    modes = sorted(h["mode"] for h in data["hunks"])
    assert modes == ["condensed"] * 3 + ["raw"]
    assert any("package-lock.json: 1 hunk(s) sent as redacted raw hunks" in n for n in data["notes"])


def test_a_hunk_sharing_a_package_with_a_secret_elsewhere_goes_raw_too(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = "ghp_" + "Zq8xW3vN5mK2pL7rT9yB4cD6fG1hJ0sA3eU5"
    patch = fix_counts(f"""\
diff --git a/requirements.txt b/requirements.txt
--- a/requirements.txt
+++ b/requirements.txt
@@ -1,3 +1,2 @@
 flask==3.0.0
-mylib @ git+https://user:{token}@github.com/x/mylib.git
 requests==2.31.0
@@ -40,2 +39,3 @@
 urllib3==2.2.0
+mylib==1.0.0
 zipp==3.17.0
""")
    data = run(capsys, tmp_path, patch)
    assert [h["mode"] for h in data["hunks"]] == ["raw", "raw"]  # the second one's old entry is the first's line
    assert token not in json.dumps(reviews(fake))
    assert any("requirements.txt: 2 hunk(s) sent as redacted raw hunks" in n for n in data["notes"])


COMPOSER = fix_counts("""\
diff --git a/composer.lock b/composer.lock
--- a/composer.lock
+++ b/composer.lock
@@ -10,6 +10,21 @@
     "packages": [
+        {
+            "name": "monolog/monolog",
+            "version": "3.5.0",
+            "source": {
+                "type": "git",
+                "url": "https://github.com/Seldaek/monolog.git",
+                "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448"
+            },
+            "authors": [
+                {
+                    "name": "Jordi Boggiano",
+                    "email": "j.boggiano@seld.be"
+                }
+            ],
+            "type": "library"
+        },
         {
             "name": "psr/log",
             "version": "3.0.0",
""")


def test_personal_data_in_a_lockfile_does_not_send_it_raw(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = run(capsys, tmp_path, COMPOSER)
    (hunk,) = [h for b in reviews(fake) for h in _hunks(b)]
    assert hunk["mode"] == "condensed" and "added monolog/monolog 3.5.0" in hunk["text"]
    assert "seld.be" not in json.dumps(reviews(fake)) and data["notes"] == []


def test_offline_report_shows_the_mode_and_the_plan_uses_the_condensed_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    data = run(capsys, tmp_path, npm_upgrades(40), "--offline")
    assert [h["mode"] for h in data["hunks"]] == ["condensed"]
    assert data["coverage"]["condensed"] == 0 and data["coverage"]["skipped_by_reason"] == {"offline": 1}
    path = tmp_path / "change.diff"
    assert main(["diff", "--patch", str(path), "--offline"]) == 0
    text = capsys.readouterr().out
    assert "1 hunk(s) of lockfiles and manifests condensed to their package changes" in text
    assert main(["diff", "--patch", str(path), "--offline", "--format", "markdown"]) == 0
    assert "(mode condensed)" in capsys.readouterr().out


def test_the_action_sends_the_condensed_list_and_comments_on_the_naming_line(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    patch = fix_counts(NPM)
    file_patch = patch.split("+++ b/package-lock.json\n", 1)[1].rstrip("\n")
    world.fake.add_pull(8, head_sha=HEAD1, base_sha="b" * 40, author="alice",
                        files=[file_entry("package-lock.json", file_patch)])
    world.event(number=8)
    with running_fake(reply=Model("left-pad")) as openai:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", openai.base_url)
        code, _, err = world.run(capsys=capsys)
        assert code == 1, err  # a high finding meets the default fail-on
        sent = [h for b in reviews(openai) for h in _hunks(b)]
        assert {h.get("mode") for h in sent} == {"condensed"} and "sha512-" not in json.dumps(sent)
    (review,) = [r for r in world.fake.writes_to("/pulls/8/reviews") if r.status < 300]
    naming = next(ln.new_no for h in parse_diff(patch).hunks for ln in h.lines if '"node_modules/left-pad"' in ln.text)
    assert [(c["path"], c["line"]) for c in review.body["comments"]] == [("package-lock.json", naming)]
    assert "suggestion" not in review.body["comments"][0]["body"]  # a package line is not code to replace
    (summary,) = world.pull(8).issue_comments
    assert "(mode condensed)" in summary.body.replace("\\", "")


def test_a_long_condensed_list_is_clipped_at_a_package_line_on_either_lane(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nbudget: {max_hunk_tokens: 400}\n")  # no routes: the general lane
    data = run(capsys, tmp_path, npm_upgrades(200), "--policy", str(policy))
    (request,) = data["plan"]["requests"]
    assert request["lane"] == "general" and request["clipped"] == [data["hunks"][0]["id"]]
    (body,) = reviews(fake)
    (hunk,) = _hunks(body)
    lines = hunk["text"].splitlines()
    assert hunk["mode"] == "condensed" and 5 < len(lines) < 200
    assert all(re.match(r"^\d+ \^ upgraded pkg-\d+ ", ln) for ln in lines)
    assert data["coverage"]["condensed"] == 1
