"""The pipeline redacts each hunk once, and its audit counts every secret the diff holds."""

from __future__ import annotations

import json
from pathlib import Path

from reviewbot.audit import AuditLog
from reviewbot.diff import parse_diff
from reviewbot.pipeline import prepare
from reviewbot.policy import load_policy
from reviewbot.redact import Redactor
from reviewbot.tokens import conservative_count

TOKEN = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
PATCH = f"""\
diff --git a/src/auth/login.py b/src/auth/login.py
--- a/src/auth/login.py
+++ b/src/auth/login.py
@@ -1,1 +1,2 @@
 import os
+TOKEN = "{TOKEN}"
diff --git a/docs/setup.md b/docs/setup.md
--- a/docs/setup.md
+++ b/docs/setup.md
@@ -1,1 +1,2 @@
 # Setup
+Use the token {TOKEN} for the demo.
"""


class _Estimator:
    name = "conservative"

    @staticmethod
    def count(text: str) -> int:
        return conservative_count(text)


def _prepare(redactor: Redactor) -> tuple[AuditLog, object]:
    policy = load_policy(None, cwd=Path("/nonexistent"), env={})
    audit = AuditLog(None, scrub=redactor.scrub)
    prepared = prepare(
        parse_diff(PATCH, origin="test"), policy, redactor=redactor, estimator=_Estimator(),  # type: ignore[arg-type]
        budget_tokens=100_000, audit=audit,
    )
    return audit, prepared


def test_each_hunk_body_is_redacted_once() -> None:
    redactor = Redactor()
    seen: list[str] = []
    real = redactor.redact

    def spy(text: str):  # type: ignore[no-untyped-def]
        seen.append(text)
        return real(text)

    redactor.redact = spy  # type: ignore[method-assign]
    _, prepared = _prepare(redactor)
    assert len(seen) == len(set(seen)) == 2, seen
    assert len(prepared.local_findings) == 2  # type: ignore[attr-defined]


def test_audit_redaction_counts_include_hunks_no_model_sees() -> None:
    # The docs hunk is on a skip route: it is never sent, but the secret in it was masked
    # (and is a local finding), so the audit's counts must include it.
    audit, prepared = _prepare(Redactor())
    (event,) = [json.loads(line) for line in audit.lines if '"event":"redaction"' in line]
    assert event["counts"] == {"github-pat": 2}
    assert {f.path for f in prepared.local_findings} == {"src/auth/login.py", "docs/setup.md"}  # type: ignore[attr-defined]


def test_audit_redaction_counts_are_this_preparation_s_own() -> None:
    # reviewbot github may prepare the diff once to see whether a call fits the PR's remaining
    # budget, then again for the run, with the same redactor: the run's counts must not double.
    redactor = Redactor()
    _prepare(redactor)
    audit, _ = _prepare(redactor)
    (event,) = [json.loads(line) for line in audit.lines if '"event":"redaction"' in line]
    assert event["counts"] == {"github-pat": 2}
