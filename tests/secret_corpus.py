"""Labelled planted secrets and benign look-alikes, for redaction tests anywhere in the suite.

    from tests.secret_corpus import planted_secrets, benign_lookalikes, leaked_fragments

    for p in planted_secrets(seed=7):           # every kind x every context, values random per seed
        out = something_that_emits(p.context_text)
        assert not leaked_fragments(out, p), p.label

``Planted.value`` is the secret itself (a PEM key with real newlines); ``Planted.fragments``
are the parts that must never appear in output (a key's body lines, not its BEGIN line).
``as_added_diff(path, text)`` wraps any text as a unified diff that adds a new file, for
end-to-end runs through the diff parser. Values are random, in each provider's real format;
none is a real credential.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
UPPER_B32 = string.ascii_uppercase + "234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"

CONTEXTS = ("python", "yaml", "json", "env", "shell", "dockerfile", "diff")
MULTILINE_CONTEXTS = ("python", "yaml", "shell", "diff")


@dataclass(frozen=True)
class Planted:
    kind: str  # the redaction kind expected, e.g. "github-pat"
    value: str  # the secret itself
    context_text: str  # file content (or diff text, context "diff") holding the value
    context: str = "python"

    @property
    def label(self) -> str:
        return f"{self.kind}@{self.context}"

    @property
    def fragments(self) -> tuple[str, ...]:
        """What must never leave: the value, or for a private key each line of its body."""
        if "-----BEGIN" not in self.value:
            return (self.value,)
        body = self.value.replace("\\n", "\n")
        return tuple(ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("-----"))


def _r(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _mixed(rng: random.Random, n: int) -> str:
    """Random alphanumerics with at least one upper, one lower and one digit."""
    body = [rng.choice(string.ascii_uppercase), rng.choice(string.ascii_lowercase), rng.choice(string.digits)]
    body += [rng.choice(ALNUM) for _ in range(n - 3)]
    rng.shuffle(body)
    return "".join(body)


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + _r(rng, n - 1, string.digits)


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + _r(rng, length - len(prefix) - 1, string.digits)
    for check in string.digits:
        candidate = body + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice([("DE", _r(rng, 18, string.digits)), ("GB", "NWBK" + _r(rng, 14, string.digits))])
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _pem(rng: random.Random, label: str, lines: int = 8) -> str:
    body = [_r(rng, 64, B64) for _ in range(lines)] + [_r(rng, 40, B64) + "=="]
    blank = [""] if "PGP" in label else []
    return "\n".join([f"-----BEGIN {label}-----", *blank, *body, f"-----END {label}-----"])


def _jwt(rng: random.Random) -> str:
    return f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{_r(rng, 40, URLSAFE)}.{_r(rng, 43, URLSAFE)}"


# kind -> value generator. The value is what the redactor must mask.
GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "aws-access-key-id": lambda g: "AKIA" + _r(g, 16, UPPER_B32),
    "aws-secret-access-key": lambda g: _r(g, 40, B64),
    "gcp-api-key": lambda g: "AIza" + _r(g, 35, URLSAFE),
    "gcp-oauth-client-secret": lambda g: "GOCSPX-" + _r(g, 28, URLSAFE),
    "gcp-service-account-key-id": lambda g: _r(g, 40, HEX),
    "azure-storage-key": lambda g: _r(g, 86, B64) + "==",
    "azure-sas-token": lambda g: _r(g, 43, B64) + "%3D",
    "azure-ad-client-secret": lambda g: _r(g, 3, ALNUM) + "8Q~" + _r(g, 34, ALNUM + "_~.-"),
    "github-pat": lambda g: "ghp_" + _r(g, 36),
    "github-oauth-token": lambda g: "gho_" + _r(g, 36),
    "github-user-token": lambda g: "ghu_" + _r(g, 36),
    "github-app-token": lambda g: "ghs_" + _r(g, 36),
    "github-refresh-token": lambda g: "ghr_" + _r(g, 36),
    "github-fine-grained-pat": lambda g: "github_pat_" + _r(g, 22) + "_" + _r(g, 59),
    "gitlab-pat": lambda g: "glpat-" + _r(g, 20, URLSAFE),
    "gitlab-pipeline-trigger-token": lambda g: "glptt-" + _r(g, 40, HEX),
    "gitlab-runner-token": lambda g: "glrt-" + _r(g, 20, URLSAFE),
    "gitlab-deploy-token": lambda g: "gldt-" + _r(g, 20, URLSAFE),
    "bitbucket-app-password": lambda g: "ATBB" + _r(g, 32),
    "atlassian-api-token": lambda g: "ATATT3" + _r(g, 180, URLSAFE),
    "slack-bot-token": lambda g: f"xoxb-{_digits(g, 11)}-{_digits(g, 12)}-{_r(g, 24)}",
    "slack-user-token": lambda g: f"xoxp-{_digits(g, 11)}-{_digits(g, 12)}-{_digits(g, 12)}-{_r(g, 32)}",
    "slack-app-token": lambda g: (
        f"xapp-1-A{_r(g, 10, string.ascii_uppercase + string.digits)}-{_digits(g, 13)}-{_r(g, 64, HEX)}"
    ),
    "slack-webhook": lambda g: f"T{_r(g, 8, UPPER_B32)}/B{_r(g, 10, UPPER_B32)}/{_r(g, 24)}",
    "discord-webhook": lambda g: _r(g, 68, URLSAFE),
    "sendgrid-api-key": lambda g: f"SG.{_r(g, 22, URLSAFE)}.{_r(g, 43, URLSAFE)}",
    "mailgun-api-key": lambda g: "key-" + _r(g, 32, HEX),
    "mailchimp-api-key": lambda g: _r(g, 32, HEX) + f"-us{g.randint(1, 20)}",
    "twilio-api-key": lambda g: "SK" + _r(g, 32, HEX),
    "telegram-bot-token": lambda g: f"{_digits(g, 9)}:AA{_r(g, 33, URLSAFE)}",
    "stripe-secret-key": lambda g: "sk_live_" + _r(g, g.randint(24, 99)),
    "stripe-restricted-key": lambda g: "rk_live_" + _r(g, g.randint(24, 99)),
    "stripe-webhook-secret": lambda g: "whsec_" + _r(g, 32),
    "square-access-token": lambda g: "EAAA" + _r(g, 60, URLSAFE),
    "square-oauth-secret": lambda g: "sq0csp-" + _r(g, 43, URLSAFE),
    "openai-api-key": lambda g: f"sk-{_r(g, 20)}T3BlbkFJ{_r(g, 20)}",
    "openai-project-key": lambda g: "sk-proj-" + _r(g, 120, URLSAFE),
    "anthropic-api-key": lambda g: "sk-ant-api03-" + _r(g, 93, URLSAFE) + "AA",
    "huggingface-token": lambda g: "hf_" + _r(g, 34),
    "npm-token": lambda g: "npm_" + _r(g, 36),
    "pypi-token": lambda g: "pypi-AgEIcHlwaS5vcmc" + _r(g, 70, URLSAFE),
    "rubygems-api-key": lambda g: "rubygems_" + _r(g, 48, HEX),
    "vault-service-token": lambda g: "hvs." + _r(g, 95, URLSAFE),
    "vault-batch-token": lambda g: "hvb." + _r(g, 140, URLSAFE),
    "terraform-cloud-token": lambda g: f"{_r(g, 14)}.atlasv1.{_r(g, 67, URLSAFE)}",
    "digitalocean-token": lambda g: "dop_v1_" + _r(g, 64, HEX),
    "databricks-token": lambda g: "dapi" + _r(g, 32, HEX),
    "doppler-token": lambda g: "dp.pt." + _r(g, 43),
    "newrelic-api-key": lambda g: "NRAK-" + _r(g, 27, string.ascii_uppercase + string.digits),
    "postman-api-key": lambda g: f"PMAK-{_r(g, 24, HEX)}-{_r(g, 34, HEX)}",
    "linear-api-key": lambda g: "lin_api_" + _r(g, 40),
    "shopify-token": lambda g: "shpat_" + _r(g, 32, HEX),
    "grafana-token": lambda g: f"glsa_{_r(g, 32)}_{_r(g, 8, HEX)}",
    "pulumi-token": lambda g: "pul-" + _r(g, 40, HEX),
    "heroku-api-key": lambda g: "HRKU-AA" + _r(g, 58, URLSAFE),
    "flyio-token": lambda g: "fo1_" + _r(g, 43, URLSAFE),
    "age-secret-key": lambda g: "AGE-SECRET-KEY-1" + _r(g, 58, BECH32),
    "jwt": _jwt,
    "url-credentials": lambda g: _mixed(g, 16),
    "generic-secret": lambda g: _mixed(g, 24),
    "private-key": lambda g: _pem(g, g.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"])),
    "openssh-private-key": lambda g: _pem(g, "OPENSSH PRIVATE KEY"),
    "pgp-private-key": lambda g: _pem(g, "PGP PRIVATE KEY BLOCK"),
    "gcp-service-account-key": lambda g: _pem(g, "PRIVATE KEY", lines=12).replace("\n", "\\n") + "\\n",
    # personal data
    "email": lambda g: (
        f"{_r(g, 6, string.ascii_lowercase)}.{_r(g, 7, string.ascii_lowercase)}"
        f"@{g.choice(['acme-corp.io', 'mailbox.org', 'corp.co.uk'])}"
    ),
    "phone": lambda g: g.choice(
        [f"+1 415 555 {_r(g, 4, string.digits)}", f"(212) 555-{_r(g, 4, string.digits)}", f"+44{_digits(g, 10)}"]
    ),
    "us-ssn": lambda g: f"{g.randint(1, 665):03d}-{g.randint(1, 99):02d}-{g.randint(1, 9999):04d}",
    "payment-card": lambda g: " ".join((lambda n: [n[i : i + 4] for i in range(0, 16, 4)])(_luhn_complete("4", 16, g))),
    "iban": _iban,
}

PII_KINDS = ("email", "phone", "us-ssn", "payment-card", "iban")
MULTILINE_KINDS = ("private-key", "openssh-private-key", "pgp-private-key")
GENERIC_NAMES = ("password", "api_key", "client_secret", "auth_token", "passwd", "secret", "DB_PASSWORD", "apiKey")


def _embed(kind: str, value: str, rng: random.Random) -> tuple[str, str]:
    """(assignment name, the string assigned) for a value of ``kind``."""
    if kind == "aws-secret-access-key":
        return "aws_secret_access_key", value
    if kind == "generic-secret":
        return rng.choice(GENERIC_NAMES), value
    if kind == "azure-storage-key":
        return "STORAGE", (
            f"DefaultEndpointsProtocol=https;AccountName=acct{rng.randint(1, 99)};AccountKey={value};"
            "EndpointSuffix=core.windows.net"
        )
    if kind == "azure-sas-token":
        return "BLOB_URL", (
            "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r"
            f"&se=2030-01-01T00:00:00Z&sig={value}"
        )
    if kind == "slack-webhook":
        return "WEBHOOK", f"https://hooks.slack.com/services/{value}"
    if kind == "discord-webhook":
        return "WEBHOOK", f"https://discord.com/api/webhooks/{_digits(rng, 18)}/{value}"
    if kind == "url-credentials":
        return "DATABASE_URL", f"postgres://app_user:{value}@db{rng.randint(1, 9)}.internal:5432/app"
    if kind in PII_KINDS:
        return "CONTACT", value
    return "SETTING_VALUE", value


def occurrence(kind: str, rng: random.Random) -> tuple[str, str]:
    """(value, the shortest text in which the value is that kind of secret): for property tests."""
    value = GENERATORS[kind](rng)
    if kind == "gcp-service-account-key-id":
        return value, f'"private_key_id": "{value}"'
    if kind == "gcp-service-account-key":
        return value, f'"private_key": "{value}"'
    name, embedded = _embed(kind, value, rng)
    if kind in ("aws-secret-access-key", "generic-secret"):
        return value, f'{name} = "{embedded}"'
    return value, embedded


def _single_line(context: str, name: str, value: str) -> str:
    if context == "python":
        return f'import os\n\n{name} = "{value}"\n\n\ndef main() -> int:\n    return 0\n'
    if context == "yaml":
        return f"service:\n  image: app:1.2.3\n  {name}: {value}\n  replicas: 2\n"
    if context == "json":
        return f'{{\n  "name": "app",\n  "{name}": "{value}",\n  "debug": false\n}}\n'
    if context == "env":
        return f"# local settings\nLOG_LEVEL=info\n{name}={value}\n"
    if context == "shell":
        return f"#!/bin/sh\nset -eu\nexport {name}='{value}'\nexec ./run\n"
    if context == "dockerfile":
        return f'FROM python:3.11-slim\nENV {name}={value}\nCMD ["python", "app.py"]\n'
    raise ValueError(context)


def _multi_line(context: str, value: str) -> str:
    if context == "python":
        return f'KEY = """\n{value}\n"""\n'
    if context == "yaml":
        indented = "\n".join("    " + ln if ln else "" for ln in value.splitlines())
        return f"tls:\n  key: |\n{indented}\n  port: 443\n"
    if context == "shell":
        return f"cat > id_key <<'EOF'\n{value}\nEOF\nchmod 600 id_key\n"
    raise ValueError(context)


def to_added_lines(text: str, *, before: str = "def unchanged():", after: str = "    pass") -> str:
    """Diff hunk body: ``text`` as added lines between two context lines."""
    return f" {before}\n" + "".join(f"+{ln}\n" for ln in text.splitlines()) + f" {after}\n"


def as_added_diff(path: str, text: str) -> str:
    """A unified diff adding ``path`` with content ``text``."""
    lines = text.splitlines()
    body = "".join(f"+{ln}\n" for ln in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def _gcp_service_account(value: str, rng: random.Random) -> str:
    return (
        "{\n"
        '  "type": "service_account",\n'
        f'  "project_id": "proj-{rng.randint(100, 999)}",\n'
        f'  "private_key_id": "{_r(rng, 40, HEX)}",\n'
        f'  "private_key": "{value}",\n'
        f'  "client_email": "svc@proj-{rng.randint(100, 999)}.iam.gserviceaccount.com"\n'
        "}\n"
    )


def planted(kind: str, context: str, rng: random.Random) -> Planted:
    """One planted value of ``kind`` in ``context`` (see :data:`CONTEXTS`)."""
    value = GENERATORS[kind](rng)
    if kind == "gcp-service-account-key":
        text = _gcp_service_account(value, rng)
        return Planted(kind, value, to_added_lines(text) if context == "diff" else text, context)
    if kind == "gcp-service-account-key-id":
        text = f'{{\n  "type": "service_account",\n  "private_key_id": "{value}",\n  "client_id": "1234"\n}}\n'
        return Planted(kind, value, to_added_lines(text) if context == "diff" else text, context)
    if kind in MULTILINE_KINDS:
        inner = "python" if context == "diff" else context
        text = _multi_line(inner, value)
        return Planted(kind, value, to_added_lines(text) if context == "diff" else text, context)
    name, embedded = _embed(kind, value, rng)
    inner = "python" if context == "diff" else context
    text = _single_line(inner, name, embedded)
    return Planted(kind, value, to_added_lines(text) if context == "diff" else text, context)


def contexts_for(kind: str) -> tuple[str, ...]:
    if kind in MULTILINE_KINDS:
        return MULTILINE_CONTEXTS
    if kind in ("gcp-service-account-key", "gcp-service-account-key-id"):
        return ("json", "diff")
    return CONTEXTS


def planted_secrets(seed: int = 0, *, pii: bool = True) -> list[Planted]:
    """Every kind in every context it can appear in, with values random per ``seed``. Sorted."""
    rng = random.Random(seed)
    out: list[Planted] = []
    for kind in sorted(GENERATORS):
        if kind in PII_KINDS and not pii:
            continue
        for context in contexts_for(kind):
            out.append(planted(kind, context, rng))
    return out


def leaked_fragments(text: str, item: Planted, *, min_len: int = 5) -> list[str]:
    """The fragments of ``item`` whose last ``min_len`` characters occur in ``text`` (should be [])."""
    return [frag for frag in item.fragments if len(frag) >= min_len and frag[-min_len:] in text]


_BENIGN = (
    # git SHAs, UUIDs, checksums, lockfile integrity hashes
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    'rev: "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"',
    "Merge: 4e1243b 9fceb02",
    '"id": "550e8400-e29b-41d4-a716-446655440000"',
    'request_id = "123e4567-e89b-12d3-a456-426614174000"',
    "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    'checksum = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
    "sha512sum: cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    '"integrity": "sha512-Lq8/XPKXY5Hpw5LC8/0Cl2xFqQGmEaJeZ1NUJQhbSzHGiQ5nMhv8hhHf0dMYPSBPX4Y6A8DWW6dXUoxD1kyzXA=="',
    'resolved "https://registry.yarnpkg.com/js-tokens/-/js-tokens-4.0.0.tgz#19203fb59991df98e3a287050d4647cdeaf32499"',
    "image: python@sha256:2bb5f0a3e4e9b1c0f7dd4ad5d1c8a1a3d7a3b7f0f2a7c3e1d9c8b7a6f5e4d3c2b1",
    # CSS colours and version strings
    "color: #ff00aa;",
    "background: #FFF; border-color: #1a2b3c80;",
    'version = "1.2.3"',
    '"typescript": "^5.4.2",',
    'python_requires=">=3.11"',
    "release v2.10.0-rc.1 on 2024-01-15",
    # references to secrets held elsewhere
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "  OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}",
    'api_key = os.environ["OPENAI_API_KEY"]',
    'password = os.getenv("DB_PASSWORD")',
    "const token = process.env.GITHUB_TOKEN;",
    "apiKey: process.env.STRIPE_KEY,",
    "password = var.db_password",
    "password: {{ db_password }}",
    "export API_TOKEN=$API_TOKEN",
    "password: ${DB_PASSWORD}",
    "client_secret = settings.CLIENT_SECRET",
    # documented examples
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    # placeholders
    'password = "changeme"',
    "api_key: <your-token>",
    "TOKEN=xxxxxxxxxxxxxxxxxxxx",
    'api_key = "your_api_key_here"',
    'token = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    'SECRET_KEY = "********"',
    'password="<password>"',
    # code that mentions secrets without holding one
    "def get_token(self) -> str:",
    'tokenizer = AutoTokenizer.from_pretrained("gpt2")',
    'password_field = "password"',
    "max_tokens = 4000",
    'secret_name = "prod/db/credentials"',
    "secretName: tls-cert-prod",
    'token_url = "https://oauth2.googleapis.com/token"',
    'token_type = "Bearer"',
    'password_hash = "$2b$12$KIXQJQ1Y9Zk7bqJ5rS0Ue.9rB0x6c1c5x3y2z1a0b9c8d7e6f5g4h"',
    '"primary_key": true,',
    "-----BEGIN CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
    # addresses and numbers that are not personal data
    "url = git@github.com:org/repo.git",
    "contact: user@example.com",
    "Co-authored-by: bot <noreply@github.com>",
    "![logo](img/logo@2x.png)",
    "timestamp = 1700000000000",
    "listen 192.168.1.100:8080",
    "ports: ['8080:80']",
    "https://github.com/org/repo/blob/main/README.md#L10-L20",
    "http://localhost:8080/api/v1/items?page=2",
)


def benign_lookalikes() -> list[str]:
    """Lines that look like secrets or personal data but are not: redaction leaves them unchanged."""
    return list(_BENIGN)
