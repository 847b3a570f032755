"""secret_findings: each secret a diff adds is a HIGH finding that never carries the value."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reviewbot.models import Confidence, Diff, DiffLine, FileDiff, FileStatus, Hunk, Severity, hunk_id
from reviewbot.redact import SOURCE, Redactor, secret_findings
from tests.secret_corpus import as_added_diff, planted_secrets

GH = "ghp_aBcdEfGhIjKlMnOpQrStUvWxYz0123456789"
PEM = [
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEpAIBAAKCAQEA" + "a1B2c3D4" * 6,
    "Zm9vYmFyYmF6cXV4" + "Q9w8E7r6" * 6,
    "-----END RSA PRIVATE KEY-----",
]


def make_hunk(path: str, lines: Sequence[tuple[str, str]], *, old_start: int = 10, new_start: int = 10) -> Hunk:
    """A Hunk from (kind, text) pairs, numbering old/new sides like a unified diff."""
    old_no, new_no = old_start, new_start
    out: list[DiffLine] = []
    for kind, text in lines:
        out.append(DiffLine(kind, text, old_no if kind != "+" else None, new_no if kind != "-" else None))
        old_no += kind != "+"
        new_no += kind != "-"
    old_len = sum(1 for k, _ in lines if k != "+")
    new_len = sum(1 for k, _ in lines if k != "-")
    header = f"@@ -{old_start},{old_len} +{new_start},{new_len} @@"
    body = "".join(f"{k}{t}\n" for k, t in lines)
    return Hunk(
        id=hunk_id(path, header, body),
        path=path,
        old_path=path,
        status=FileStatus.MODIFIED,
        old_start=old_start,
        old_len=old_len,
        new_start=new_start,
        new_len=new_len,
        section="",
        lines=tuple(out),
        commentable=frozenset(range(new_start, new_start + new_len)),
        language="python",
    )


def make_diff(*hunks: Hunk) -> Diff:
    by_path: dict[str, list[Hunk]] = {}
    for h in hunks:
        by_path.setdefault(h.path, []).append(h)
    return Diff(tuple(FileDiff(p, p, FileStatus.MODIFIED, tuple(hs)) for p, hs in sorted(by_path.items())))


def test_added_token_is_a_high_finding_without_the_value() -> None:
    hunk = make_hunk(
        "app/settings.py",
        [(" ", "import os"), ("+", f'GITHUB = "{GH}"'), ("+", 'password = "Tr0ub4dor&3xQ9zz"'), (" ", "")],
    )
    findings = secret_findings(make_diff(hunk), Redactor())
    assert [(f.rule, f.start_line, f.end_line, f.confidence) for f in findings] == [
        ("secret/github-pat", 11, 11, Confidence.HIGH),
        ("secret/generic-secret", 12, 12, Confidence.MEDIUM),
    ]
    gh = findings[0]
    assert gh.severity is Severity.HIGH
    assert gh.source == SOURCE == "local:secrets"
    assert gh.path == "app/settings.py"
    assert gh.hunk_id == hunk.id
    assert gh.title == "Hard-coded GitHub personal access token"
    assert "[REDACTED:github-pat:1]" in gh.body
    for f in findings:
        assert GH not in repr(f)
        assert "Tr0ub4dor" not in repr(f)


def test_removed_and_context_secrets_are_not_findings() -> None:
    hunk = make_hunk("a.py", [("-", f'OLD = "{GH}"'), (" ", f'KEEP = "{GH}"'), ("+", "x = 1")])
    assert secret_findings(make_diff(hunk), Redactor()) == ()


def test_pii_is_masked_but_never_a_finding() -> None:
    hunk = make_hunk("a.py", [("+", "# contact jane.doe@corp-mail.io or +1 415 555 0134")])
    assert secret_findings(make_diff(hunk), Redactor()) == ()


def test_private_key_across_added_lines_is_one_finding_over_its_line_range() -> None:
    hunk = make_hunk("deploy/key.py", [(" ", 'KEY = """'), *(("+", ln) for ln in PEM), (" ", '"""')], new_start=1)
    (finding,) = secret_findings(make_diff(hunk), Redactor())
    assert (finding.rule, finding.start_line, finding.end_line) == ("secret/private-key", 2, 5)
    assert finding.title == "Hard-coded private key"
    assert all(line not in finding.body for line in PEM[1:3])


def test_fingerprint_is_stable_across_runs_numbering_and_line_moves() -> None:
    lines = [("+", f'TOKEN = "{GH}"')]
    alone = secret_findings(make_diff(make_hunk("a.py", lines)), Redactor())
    other_first = Redactor()
    other_first.scrub("ghp_ZZcdEfGhIjKlMnOpQrStUvWxYz0123456789")  # shifts the placeholder number to 2
    moved = secret_findings(make_diff(make_hunk("a.py", lines, new_start=400)), other_first)
    assert alone[0].fingerprint == moved[0].fingerprint
    assert "[REDACTED:github-pat:2]" in moved[0].body
    elsewhere = secret_findings(make_diff(make_hunk("b.py", lines)), Redactor())
    assert elsewhere[0].fingerprint != alone[0].fingerprint


def test_findings_are_sorted_and_cover_several_files() -> None:
    diff = make_diff(
        make_hunk("z.py", [("+", f"a = '{GH}'")]),
        make_hunk("a.py", [("+", "k = 'AKIAQWERTYUIOPASDFGH'")]),
    )
    findings = secret_findings(diff, Redactor())
    assert [f.path for f in findings] == ["a.py", "z.py"]
    assert findings[0].rule == "secret/aws-access-key-id"


def test_with_the_diff_parser_when_present() -> None:
    parse = pytest.importorskip("reviewbot.diff").parse_diff
    items = [p for p in planted_secrets(seed=5, pii=False) if p.context == "python"]
    patch = "".join(as_added_diff(f"f{i}.py", p.context_text) for i, p in enumerate(items))
    findings = secret_findings(parse(patch), Redactor())
    assert {f.rule.removeprefix("secret/") for f in findings} >= {p.kind for p in items}
    text = repr(findings)
    for p in items:
        assert all(frag not in text for frag in p.fragments), p.label
