"""Local findings: each secret a diff ADDS becomes a HIGH-severity finding that never holds the value."""

from __future__ import annotations

from collections.abc import Mapping

from ..models import Diff, Finding, Hunk, Severity, fingerprint
from .engine import PLACEHOLDER, Redaction, RedactionResult, Redactor, confidence_of, is_pii
from .rules import PRIVATE_KEY_TITLES, TITLES

SOURCE = "local:secrets"


def _title(kind: str) -> str:
    return TITLES.get(kind, f"secret matching the policy pattern '{kind}'")


def _normalise(redacted_line: str) -> str:
    """Placeholder numbers depend on the run; fingerprints must not."""
    return PLACEHOLDER.sub(lambda m: f"[REDACTED:{m.group('kind')}]", redacted_line)


def _groups(redactions: tuple[Redaction, ...]) -> list[list[Redaction]]:
    """One group per secret: a private key's lines form one group, every other redaction its own."""
    groups: list[list[Redaction]] = []
    for r in redactions:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and r.kind in PRIVATE_KEY_TITLES
            and r.placeholder == last.placeholder
            and r.line == last.line + 1
        ):
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def _hunk_findings(hunk: Hunk, result: RedactionResult) -> list[Finding]:
    if not result.redactions:
        return []
    redacted_lines = result.text.split("\n")
    findings: list[Finding] = []
    for group in _groups(result.redactions):
        kind = group[0].kind
        if is_pii(kind):
            continue
        added = [
            hunk.lines[r.line - 1] for r in group if r.line <= len(hunk.lines) and hunk.lines[r.line - 1].kind == "+"
        ]
        new_lines = [ln.new_no for ln in added if ln.new_no is not None]
        if not new_lines:
            continue  # removed or unchanged context: not added by this diff
        rule = f"secret/{kind}"
        title = _title(kind)
        start, end = min(new_lines), max(new_lines)
        where = f"line {start}" if start == end else f"lines {start}-{end}"
        placeholder = group[0].placeholder
        body = (
            f"A {title} is added on {where} (shown here as `{placeholder}`). "
            "Remove it from the change and rotate it: it is in the branch history now. "
            "Load it at run time from a secret store or an environment variable instead."
        )
        snippet = "\n".join(_normalise(redacted_lines[r.line - 1][1:]) for r in group)
        findings.append(
            Finding(
                rule=rule,
                severity=Severity.HIGH,
                confidence=confidence_of(kind),
                path=hunk.path,
                start_line=start,
                end_line=end,
                title=f"Hard-coded {title}",
                body=body,
                source=SOURCE,
                fingerprint=fingerprint(rule, hunk.path, snippet),
                cwe="CWE-798",
                hunk_id=hunk.id,
            )
        )
    return findings


def secret_findings(
    diff: Diff, redactor: Redactor, redacted: Mapping[str, RedactionResult] | None = None
) -> tuple[Finding, ...]:
    """A finding per secret on the diff's added lines (PII is masked but never a finding), sorted.

    ``redacted``: ``redactor.redact(hunk.body())`` by hunk id, when the caller has it already
    (the pipeline redacts every hunk once); a hunk missing from it is redacted here.
    """
    findings: list[Finding] = []
    for hunk in diff.hunks:
        result = redacted.get(hunk.id) if redacted is not None else None
        findings.extend(_hunk_findings(hunk, result if result is not None else redactor.redact(hunk.body())))
    return tuple(sorted(findings, key=Finding.sort_key))
