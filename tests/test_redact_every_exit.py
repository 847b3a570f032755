"""The labelled corpus through a whole `reviewbot diff` run: no planted value leaves by any exit.

Exits checked: the prompt text the fake model server received, the JSON, SARIF, markdown and
text reports, the audit file, standard error and captured log records. The fake model is
hostile: it answers each hunk with a finding whose explanation and fix quote the planted
code in clear (the original lines, as a model that had seen them would quote them), so the
masking of model output before it becomes a finding is exercised too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from tests.fakes.openai_server import input_text, review_output, running_fake
from tests.secret_corpus import Planted, as_added_diff, planted_secrets
from tests.test_github_e2e import world  # noqa: F401  (the fake GitHub and a workflow's environment)

KEY = "sk-proj-testkey-not-real-0000000000000000"
ITEMS = planted_secrets(seed=5150)
PATHS = {f"src/planted_{n:03d}.py": item for n, item in enumerate(ITEMS)}


def _strings(value: Any) -> list[str]:
    """Every string inside a decoded JSON value, keys included (escapes undone)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def hostile_reply(body: dict[str, Any]) -> str:
    text = input_text(body)
    if text == "ping":
        return "pong"
    findings = []
    for hunk in json.loads(text)["hunks"]:
        item = PATHS[hunk["path"]]
        first = hunk["text"].split("\n")[0]
        quote = first.split(" ", 1)[1][1:] if " " in first else first  # "<no> +<code>" -> "<code>"
        leak = item.context_text.replace("\n+", "\n").lstrip(" +")  # the original code, diff markers off
        findings.append(
            {
                "hunk_id": hunk["hunk_id"],
                "category": "hard-coded-secret",
                "cwe": "CWE-798",
                "severity": "high",
                "confidence": "high",
                "title": "hard-coded secret",
                "explanation": f"This code holds a credential:\n{leak}",
                "source": "a literal",
                "sink": "the repository",
                "quote": quote,
                "fix": f"Remove it and rotate it:\n{leak}",
            }
        )
    # The general lane also escalates every hunk with the secret in its reason: that text goes on to
    # the security prompt, the reports and the audit, and must be masked at every one of them.
    escalations = [
        {"hunk_id": h["hunk_id"], "needed": True, "reason": f"holds {PATHS[h['path']].context_text}"}
        for h in json.loads(text)["hunks"]
    ]
    return review_output(body, findings, escalations)


@pytest.fixture(scope="module")
def patch_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.diff"
    path.write_text("".join(as_added_diff(p, item.context_text) for p, item in PATHS.items()))
    return path


def _leaked(text: str, item: Planted) -> list[str]:
    """Fragments whose last 12 characters (or all of a shorter one) occur in ``text``.

    Reports are full of hex ids and fingerprints, so a 5-character suffix of a hex token
    turns up by chance; 12 does not.
    """
    return [f for f in item.fragments if (f[-12:] if len(f) >= 12 else f) in text]


def assert_nothing_leaked(where: str, texts: list[str]) -> None:
    joined = "\n".join(texts)
    leaks = {item.label: found for item in ITEMS if (found := _leaked(joined, item))}
    assert leaks == {}, f"planted values leaked through {where}: {sorted(leaks)}"


def test_no_planted_value_leaves_through_any_exit(
    patch_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_fake(reply=hostile_reply) as fake:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("REVIEWBOT_TOKENIZER", "conservative")
        outputs: dict[str, str] = {}
        for fmt in ("json", "sarif", "markdown", "text"):
            audit = tmp_path / f"audit-{fmt}.jsonl"
            report = tmp_path / f"report.{fmt}"
            code = main(
                [
                    "diff", "--patch", str(patch_file), "--format", fmt, "--output", str(report),
                    "--audit", str(audit), "--fail-on", "none", "--budget-tokens", "5000000", "--verbose",
                ]
            )
            out, err = capsys.readouterr()
            assert code == 0, err
            outputs[fmt] = report.read_text()
            outputs[f"audit ({fmt} run)"] = audit.read_text()
            outputs[f"stdout/stderr ({fmt} run)"] = out + err
        bodies = fake.bodies()
        assert not fake.schema_errors, fake.schema_errors[:3]

    data = json.loads(outputs["json"])
    # The run really reviewed the corpus and the hostile findings really came back.
    assert data["model_called"] is True and data["coverage"]["hunks_reviewed"] == len(ITEMS)
    model_findings = [f for f in data["findings"] if f["source"].startswith("model:")]
    assert len(model_findings) >= len(ITEMS) // 2, len(model_findings)
    assert any("[REDACTED:" in f["body"] for f in model_findings)

    reviews = [b for b in bodies if input_text(b) != "ping"]
    sent = [s for b in bodies for s in _strings(b)] + [s for b in reviews for s in _strings(json.loads(input_text(b)))]
    assert_nothing_leaked("the prompts sent to the model", sent)
    assert_nothing_leaked("the JSON report", _strings(data))
    assert_nothing_leaked("the SARIF report", _strings(json.loads(outputs["sarif"])))
    for name, text in outputs.items():
        if name not in {"json", "sarif"}:
            assert_nothing_leaked(name, [text])
    for name in [n for n in outputs if n.startswith("audit")]:
        assert_nothing_leaked(name, [s for line in outputs[name].splitlines() for s in _strings(json.loads(line))])
    assert_nothing_leaked("log records", [caplog.text, *(r.getMessage() for r in caplog.records)])


def test_corpus_is_the_whole_labelled_set() -> None:
    # Guards the test above against a corpus that shrank: every kind, several contexts.
    kinds = {item.kind for item in ITEMS}
    assert len(kinds) >= 50 and len(ITEMS) >= 250
    assert all(isinstance(item, Planted) for item in ITEMS)


# ------------------------------------------------------------------ through `reviewbot github`


def test_no_planted_value_reaches_github_the_job_summary_or_the_artifacts(
    world: Any,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same corpus as a pull request: comment bodies, the summary comment, every write to
    GitHub, the job summary, the annotations and the SARIF, JSON and audit artifacts."""
    from reviewbot import tokens
    from tests.fakes.github_server import file_entry
    from tests.test_github_e2e import BASE, HEAD1

    pull = world.fake.pulls[7]
    pull.files = [
        file_entry(path, as_added_diff(path, item.context_text).split("\n", 4)[4], status="added")
        for path, item in PATHS.items()
    ]
    assert pull.head_sha == HEAD1 and pull.base_sha == BASE
    world.event()
    tokens.reset_cache()
    try:
        with running_fake(keys={KEY: "main"}, reply=hostile_reply) as fake:
            monkeypatch.setenv("OPENAI_API_KEY", KEY)
            monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
            monkeypatch.setenv("REVIEWBOT_BUDGET_TOKENS", "5000000")
            monkeypatch.setenv("REVIEWBOT_BUDGET_TOKENS_PER_PR", "5000000")
            code, out, err = world.run(capsys=capsys)
            assert not fake.schema_errors, fake.schema_errors[:3]
    finally:
        tokens.reset_cache()
    assert code in (0, 1), err
    outputs = world.outputs()
    report = json.loads(Path(outputs["report-file"]).read_text())
    assert report["coverage"]["hunks_reviewed"] == len(ITEMS), report["coverage"]
    comments = [c["body"] for w in world.fake.writes_to("/pulls/7/reviews") for c in w.body.get("comments", [])]
    assert len(comments) >= len(ITEMS) // 2  # the hostile findings were really posted inline

    assert_nothing_leaked("inline comment bodies", comments)
    assert_nothing_leaked("the writes to GitHub", [s for w in world.fake.writes for s in _strings(w.body)])
    assert_nothing_leaked("the job summary", [world.summary_path.read_text()])
    assert_nothing_leaked("stdout/stderr (annotations)", [out, err])
    assert_nothing_leaked("the JSON artifact", _strings(report))
    assert_nothing_leaked("the SARIF artifact", _strings(json.loads(Path(outputs["sarif-file"]).read_text())))
    audit_lines = Path(outputs["audit-file"]).read_text().splitlines()
    assert_nothing_leaked("the audit artifact", [s for line in audit_lines for s in _strings(json.loads(line))])
