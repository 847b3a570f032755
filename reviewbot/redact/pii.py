"""Personal data masked in model input (on by default): e-mail, phone, US SSN, payment card, IBAN.

Each :class:`PiiRule` has a regex and a check on the matched text that returns how many of
its characters are the personal datum (0: not one). Cards must pass the Luhn check and
carry a known issuer prefix; IBANs must have their country's length and pass ISO 7064 mod 97.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PiiRule:
    kind: str
    title: str
    regex: re.Pattern[str]
    keywords: tuple[str, ...]  # empty: the regex scans the whole text
    check: Callable[[str], int]  # length of the datum at the start of the match, 0 to reject
    ignore_case: bool = False


_BENIGN_EMAIL_DOMAINS = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|example|localhost|invalid|test|local|users\.noreply\.github\.com)$",
    re.IGNORECASE,
)
_FILE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|js|ts|css|py|md)$", re.IGNORECASE)


def _check_email(value: str) -> int:
    local, _, domain = value.rpartition("@")
    if local.lower() in {"git", "noreply", "no-reply"} or _BENIGN_EMAIL_DOMAINS.search(domain):
        return 0
    if _FILE_SUFFIX.search(domain):  # logo@2x.png
        return 0
    return len(value)


def _check_phone(value: str) -> int:
    digits = [c for c in value if c.isdigit()]
    if len(set(digits)) == 1:  # 000-000-0000, 111-111-1111
        return 0
    return len(value)


def _check_ssn(value: str) -> int:
    return len(value)


def luhn_ok(digits: str) -> bool:
    """ISO/IEC 7812 check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_issuer_ok(digits: str) -> bool:
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16  # Mastercard
    if two in (34, 37):
        return n == 15  # American Express
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return 16 <= n <= 19  # Discover
    if 3528 <= four <= 3589:
        return 16 <= n <= 19  # JCB
    if two in (36, 38) or 300 <= int(digits[:3]) <= 305:
        return n == 14  # Diners Club
    return False


def _check_card(value: str) -> int:
    digits = "".join(c for c in value if c.isdigit())
    if len(set(digits)) == 1 or not _card_issuer_ok(digits) or not luhn_ok(digits):
        return 0
    seps = {c for c in value if not c.isdigit()}
    if len(seps) > 1:
        return 0
    return len(value)


IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_ok(iban: str) -> bool:
    """Country length and the ISO 7064 mod-97 checksum of a compact IBAN."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _check_iban(value: str) -> int:
    length = IBAN_LENGTHS.get(value[:2])
    if length is None:
        return 0
    taken = 0
    for i, ch in enumerate(value):  # the regex may have swallowed a following word: cut at length
        if ch != " ":
            taken += 1
            if taken == length:
                compact = value[: i + 1].replace(" ", "")
                return i + 1 if iban_ok(compact) else 0
    return 0


PII_RULES: tuple[PiiRule, ...] = (
    PiiRule(
        "email",
        "e-mail address",
        re.compile(
            r"(?<![\w.%+\-:/])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+"
            r"[A-Za-z]{2,24}(?![\w\-])"
        ),
        ("@",),
        _check_email,
    ),
    PiiRule(
        "us-ssn",
        "US social security number",
        re.compile(r"(?<![\w\-.])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w\-.])"),
        (),
        _check_ssn,
    ),
    PiiRule(
        "phone",
        "phone number",
        re.compile(
            r"(?<![\w+.\-/])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,4}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\w.\-/])"
            r"|(?<![\w+])\+[1-9]\d{9,13}(?![\w.\-/])"
        ),
        (),
        _check_phone,
    ),
    PiiRule(
        "payment-card",
        "payment card number",
        re.compile(
            r"(?<![\w\-.])(?:3[47]\d{2}[ \-]?\d{6}[ \-]?\d{5}"  # American Express, 4-6-5
            r"|[2-6]\d{3}(?:[ \-]?\d{4}){2}[ \-]?\d{1,4}(?:[ \-]?\d{1,3})?)(?![\w\-.])"
        ),
        (),
        _check_card,
    ),
    PiiRule(
        "iban",
        "IBAN",
        re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"),
        (),
        _check_iban,
    ),
)

PII_KINDS = frozenset(rule.kind for rule in PII_RULES)
