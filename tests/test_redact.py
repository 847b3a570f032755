"""The redactor on labelled planted secrets, benign look-alikes, placeholders and line structure."""

from __future__ import annotations

from typing import Any

import pytest

from reviewbot.models import Confidence
from reviewbot.policy.model import RedactionConfig
from reviewbot.redact import (
    PII_KINDS,
    PLACEHOLDER,
    PROVIDER_RULES,
    RedactionPatternError,
    Redactor,
    confidence_of,
    secret_kinds,
)
from tests.secret_corpus import (
    GENERATORS,
    Planted,
    benign_lookalikes,
    leaked_fragments,
    planted_secrets,
)

CORPUS = planted_secrets(seed=20261123)
GH = "ghp_aBcdEfGhIjKlMnOpQrStUvWxYz0123456789"
GH2 = "ghp_ZZcdEfGhIjKlMnOpQrStUvWxYz0123456789"


def test_at_least_45_provider_formats_and_every_kind_has_a_generator() -> None:
    assert len(PROVIDER_RULES) >= 45
    assert set(GENERATORS) == set(secret_kinds()) | set(PII_KINDS)


def test_corpus_covers_every_kind_in_every_context() -> None:
    kinds = {p.kind for p in CORPUS}
    assert kinds == set(GENERATORS)
    contexts = {p.context for p in CORPUS}
    assert contexts == {"python", "yaml", "json", "env", "shell", "dockerfile", "diff"}


@pytest.mark.parametrize("item", CORPUS, ids=lambda p: p.label)
def test_every_planted_value_is_masked_and_named(item: Planted) -> None:
    result = Redactor().redact(item.context_text)
    assert leaked_fragments(result.text, item) == []
    assert item.kind in {r.kind for r in result.redactions}
    assert result.text.count("\n") == item.context_text.count("\n")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_other_seeds_are_masked_too(seed: int) -> None:
    redactor = Redactor()
    missed = [p.label for p in planted_secrets(seed) if leaked_fragments(redactor.scrub(p.context_text), p)]
    assert missed == []


@pytest.mark.parametrize("line", benign_lookalikes())
def test_benign_lookalikes_stay_unmasked(line: str) -> None:
    result = Redactor().redact(line)
    assert result.redactions == ()
    assert result.text == line


def test_benign_corpus_as_one_file_and_as_a_diff() -> None:
    text = "\n".join(benign_lookalikes()) + "\n"
    diff = "".join(f"+{ln}\n" for ln in benign_lookalikes())
    redactor = Redactor()
    assert redactor.scrub(text) == text
    assert redactor.scrub(diff) == diff


def test_same_value_same_number_within_a_run_and_new_value_new_number() -> None:
    redactor = Redactor()
    first = redactor.scrub(f'a = "{GH}"\nb = "{GH2}"\n')
    second = redactor.scrub(f"again {GH} and {GH2}")
    assert first == 'a = "[REDACTED:github-pat:1]"\nb = "[REDACTED:github-pat:2]"\n'
    assert second == "again [REDACTED:github-pat:1] and [REDACTED:github-pat:2]"
    assert Redactor().scrub(f"{GH2}") == "[REDACTED:github-pat:1]"  # numbering is per run
    assert redactor.counts() == (("github-pat", 4),)


def test_scrub_scans_a_clean_string_once_and_a_string_holding_a_secret_every_time() -> None:
    # Reports repeat the same paths and ids thousands of times: scanning each again made
    # the JSON report and the audit log most of the pipeline's time (bench_pipeline).
    redactor = Redactor()
    scanned: list[str] = []
    real = redactor._spans

    def spy(text: str) -> list[Any]:
        scanned.append(text)
        return real(text)

    redactor._spans = spy  # type: ignore[method-assign]
    for _ in range(3):
        assert redactor.scrub("src/app/module.py") == "src/app/module.py"
    assert scanned == ["src/app/module.py"]
    for _ in range(3):
        assert redactor.scrub(f"x {GH}") == "x [REDACTED:github-pat:1]"
    assert scanned.count(f"x {GH}") == 3
    assert redactor.counts() == (("github-pat", 3),)
    assert Redactor().scrub("src/app/module.py") == "src/app/module.py"  # the memo is per redactor


def test_numbers_are_per_kind() -> None:
    out = Redactor().scrub(f"{GH} AKIA{'Q' * 4}ABCDEFGHJKLM")
    assert out == "[REDACTED:github-pat:1] [REDACTED:aws-access-key-id:1]"


def test_redaction_positions_are_one_based_with_exclusive_end_and_never_hold_the_value() -> None:
    text = f'line one\ntoken: "{GH}"\n'
    result = Redactor().redact(text)
    (red,) = result.redactions
    assert (red.kind, red.line, red.start_col, red.end_col) == ("github-pat", 2, 9, 9 + len(GH))
    assert text.splitlines()[1][red.start_col - 1 : red.end_col - 1] == GH
    assert GH not in repr(result)


PEM_BODY = ["MIIEpAIBAAKCAQEA" + "a1B2c3D4" * 6, "Zm9vYmFyYmF6cXV4" + "Q9w8E7r6" * 6, "dGhlIGVuZA=="]


def _pem_lines(prefix: str) -> list[str]:
    return [
        f"{prefix}-----BEGIN RSA PRIVATE KEY-----",
        *(prefix + ln for ln in PEM_BODY),
        f"{prefix}-----END RSA PRIVATE KEY-----",
    ]


def test_pem_key_spanning_added_diff_lines_keeps_prefixes_and_line_count() -> None:
    diff = " def f():\n" + "\n".join(_pem_lines("+")) + "\n     return 1\n"
    result = Redactor().redact(diff)
    lines = result.text.split("\n")
    assert len(lines) == len(diff.split("\n"))
    assert lines[0] == " def f():"
    assert lines[1:6] == ["+[REDACTED:private-key:1]"] * 5
    assert lines[6] == "     return 1"
    assert [r.line for r in result.redactions] == [2, 3, 4, 5, 6]
    assert all(body not in result.text for body in PEM_BODY)


def test_pem_key_indented_in_yaml_keeps_indentation_and_the_trailing_text() -> None:
    text = "key: |\n" + "\n".join("    " + ln for ln in _pem_lines("")) + "\nnext: 1\n"
    out = Redactor().scrub(text)
    assert out.splitlines()[1:6] == ["    [REDACTED:private-key:1]"] * 5
    assert out.splitlines()[6] == "next: 1"


def test_same_pem_key_in_a_diff_and_in_a_file_gets_the_same_number() -> None:
    redactor = Redactor()
    in_diff = redactor.scrub("\n".join(_pem_lines("+")))
    in_file = redactor.scrub("\n".join(_pem_lines("")))
    assert "[REDACTED:private-key:1]" in in_diff
    assert "[REDACTED:private-key:1]" in in_file


def test_truncated_pem_key_without_end_line_is_masked_to_the_last_key_line() -> None:
    text = "+-----BEGIN OPENSSH PRIVATE KEY-----\n+" + PEM_BODY[0] + "\n+" + PEM_BODY[1] + "\n+print('done')\n"
    out = Redactor().scrub(text)
    assert out.splitlines() == ["+[REDACTED:openssh-private-key:1]"] * 3 + ["+print('done')"]


def test_crlf_lines_keep_their_carriage_returns() -> None:
    text = "\r\n".join(_pem_lines("")) + "\r\nafter\r\n"
    out = Redactor().scrub(text)
    assert out.count("\r\n") == text.count("\r\n")
    assert out.endswith("after\r\n")


def test_scrub_is_idempotent() -> None:
    redactor = Redactor()
    for item in CORPUS[::5]:
        once = redactor.scrub(item.context_text)
        assert redactor.scrub(once) == once, item.label


def test_allow_takes_exact_strings_and_regexes() -> None:
    text = f"a {GH} b {GH2}"
    assert Redactor(allow=[GH]).scrub(text) == f"a {GH} b [REDACTED:github-pat:1]"
    assert Redactor(allow=[r"ghp_[A-Z]{2}.*"]).scrub(text) == f"a [REDACTED:github-pat:1] b {GH2}"


def test_extra_patterns_add_kinds_and_redact_a_named_group_when_given() -> None:
    redactor = Redactor(extra_patterns=[("Acme Key", r"acme_[0-9a-f]{16}"), ("internal", r"ref=(?P<s>\w{8})")])
    assert redactor.scrub("k=acme_0123456789abcdef") == "k=[REDACTED:acme-key:1]"
    assert redactor.scrub("ref=ABCDEFGH") == "ref=[REDACTED:internal:1]"


def test_bad_extra_pattern_is_a_policy_error_with_a_hint() -> None:
    with pytest.raises(RedactionPatternError) as info:
        Redactor(extra_patterns=[("broken", "([a-z")])
    assert "broken" in info.value.message
    assert info.value.hint
    assert info.value.exit_code == 2


def test_from_config_uses_the_policy_section() -> None:
    cfg = RedactionConfig(extra_patterns=(("acme", r"acme_\d{6}"),), allow=(GH,), pii=False)
    redactor = Redactor.from_config(cfg)
    assert redactor.scrub(f"{GH} acme_123456 jane.doe@corp-mail.io") == f"{GH} [REDACTED:acme:1] jane.doe@corp-mail.io"


def test_pii_is_on_by_default_and_can_be_turned_off() -> None:
    text = "call +1 415 555 0134 or mail jane.doe@corp-mail.io, SSN 123-45-6789"
    assert Redactor().scrub(text) == ("call [REDACTED:phone:1] or mail [REDACTED:email:1], SSN [REDACTED:us-ssn:1]")
    assert Redactor(pii=False).scrub(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4111 1111 1111 1111", True),  # Luhn-valid
        ("card 4111 1111 1111 1112", False),  # Luhn-invalid
        ("iban DE89 3704 0044 0532 0130 00", True),
        ("iban DE89 3704 0044 0532 0130 01", False),  # checksum fails
        ("iban GB82WEST12345698765432", True),
        ("ssn 000-12-3456", False),
        ("order 2024-01-15 build 1.22.333", False),
    ],
)
def test_checksummed_pii(text: str, masked: bool) -> None:
    assert (Redactor().scrub(text) != text) is masked


def test_generic_assignment_gate_entropy_and_stopwords() -> None:
    redactor = Redactor(pii=False)
    assert redactor.scrub('password = "aaaaaaaaab"') == 'password = "aaaaaaaaab"'  # low entropy
    assert redactor.scrub('password = "Tr0ub4dor&3xQ9"') == 'password = "[REDACTED:generic-secret:1]"'
    assert redactor.scrub("client_secret: dummy-client-secret") == "client_secret: dummy-client-secret"


def test_confidence_by_kind() -> None:
    assert confidence_of("github-pat") is Confidence.HIGH
    assert confidence_of("private-key") is Confidence.HIGH
    assert confidence_of("generic-secret") is Confidence.MEDIUM


def test_placeholder_regex_matches_what_the_redactor_writes() -> None:
    out = Redactor().scrub(GH)
    match = PLACEHOLDER.fullmatch(out)
    assert match is not None
    assert (match.group("kind"), match.group("n")) == ("github-pat", "1")


def test_non_ascii_text_keeps_its_positions() -> None:
    text = f'İstanbul ßtraße token = "{GH}" 𝔘𝔫𝔦𝔠𝔬𝔡𝔢'
    result = Redactor().redact(text)
    (red,) = result.redactions
    assert text[red.start_col - 1 : red.end_col - 1] == GH
    assert result.text == text.replace(GH, "[REDACTED:github-pat:1]")


def test_text_without_secrets_is_returned_unchanged() -> None:
    text = "def add(a, b):\n    return a + b\n" * 100
    assert Redactor().scrub(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "aws_secret_" * 20_000,  # many rule starts on one long line
        "x secret" + "_a" * 50_000 + "=1",  # a very long key name
        ("eyJ" + "a" * 20) * 5_000,
        "-----BEGIN RSA PRIVATE KEY-----\n" * 2_000,
        "abc.def@" * 20_000,
    ],
    ids=["aws-starts", "long-key", "jwt-starts", "begin-lines", "at-signs"],
)
def test_adversarial_input_is_handled_in_linear_passes(text: str) -> None:
    # Bounded quantifiers keep these linear; a quadratic regression makes this test hang.
    out = Redactor().scrub(text)
    assert out.count("\n") == text.count("\n")
