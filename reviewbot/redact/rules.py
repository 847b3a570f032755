"""Provider credential formats: one :class:`Rule` per kind, with the literals the prefilter looks for.

The facts (prefixes, alphabets, lengths) are the providers' public formats, as also
catalogued by gitleaks' default rules and detect-secrets' plugins; the code is ours.

A rule's regex runs only on the lines where one of its ``keywords`` occurs (see
:mod:`reviewbot.redact.engine`), so each keyword must occur in every match. When the
regex has a group named ``s``, only that group is the secret (the rest is context such
as ``AccountKey=``); otherwise the whole match is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Confidence

# Characters that may not touch a token on either side (so a token's prefix or
# suffix inside a longer word is not taken for the token).
_B = r"(?<![A-Za-z0-9_])"
_E = r"(?![A-Za-z0-9_])"


@dataclass(frozen=True)
class Rule:
    """One credential format. ``kind`` is the placeholder kind and the finding's ``secret/<kind>``."""

    kind: str
    title: str  # "GitHub personal access token": findings say "Hard-coded <title>"
    regex: re.Pattern[str]
    keywords: tuple[str, ...]  # literals, one of which occurs in every match
    ignore_case: bool = False  # keywords are lower case and looked up in the lowered text
    confidence: Confidence = Confidence.HIGH
    priority: int = 3  # on overlap, the higher priority names the merged span
    in_run: bool = True  # every match lies inside one run of RUN_CHARS (see engine); False: needs the line


def _rule(
    kind: str,
    title: str,
    pattern: str,
    *keywords: str,
    ignore_case: bool = False,
    in_run: bool = True,
) -> Rule:
    return Rule(kind, title, re.compile(pattern), tuple(keywords), ignore_case, in_run=in_run)


_AWS_SK_PATTERN = (
    r"(?i:aws)[A-Za-z0-9_.\- ]{0,25}?(?i:secret|sk)[A-Za-z0-9_.\-]{0,20}[\"']?[ \t]*(?::=|=>|=|:|,)[ \t]*"
    r"[\"']?(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)

PROVIDER_RULES: tuple[Rule, ...] = (
    # --- cloud
    _rule(
        "aws-access-key-id",
        "AWS access key ID",
        _B + r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}" + _E,
        "AKIA",
        "ASIA",
        "ABIA",
        "ACCA",
        "A3T",
    ),
    _rule("aws-secret-access-key", "AWS secret access key", _AWS_SK_PATTERN, "aws", ignore_case=True, in_run=False),
    _rule("gcp-api-key", "Google API key", _B + r"AIza[0-9A-Za-z_\-]{35}" + r"(?![A-Za-z0-9_\-])", "AIza"),
    _rule("gcp-oauth-client-secret", "Google OAuth client secret", _B + r"GOCSPX-[A-Za-z0-9_\-]{28}" + _E, "GOCSPX-"),
    _rule(
        "gcp-service-account-key-id",
        "GCP service-account private key ID",
        r"\"private_key_id\"[ \t]*:[ \t]*\"(?P<s>[0-9a-f]{40})\"",
        "private_key_id",
        in_run=False,
    ),
    _rule(
        "azure-storage-key",
        "Azure storage account key",
        r"AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)",
        "AccountKey=",
    ),
    _rule(
        "azure-sas-token",
        "Azure shared access signature",
        r"(?<![A-Za-z0-9_.\-])sig=(?P<s>[A-Za-z0-9%+/]{30,256}(?:=|%3D|%3d){0,2})",
        "sig=",
    ),
    _rule(
        "azure-ad-client-secret",
        "Azure AD client secret",
        _B + r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}",  # greedy, no end check: "." may end a sentence
        "Q~",
    ),
    # --- source hosts
    _rule("github-pat", "GitHub personal access token", _B + r"ghp_[A-Za-z0-9]{36}" + _E, "ghp_"),
    _rule("github-oauth-token", "GitHub OAuth access token", _B + r"gho_[A-Za-z0-9]{36}" + _E, "gho_"),
    _rule("github-user-token", "GitHub user-to-server token", _B + r"ghu_[A-Za-z0-9]{36}" + _E, "ghu_"),
    _rule("github-app-token", "GitHub server-to-server token", _B + r"ghs_[A-Za-z0-9]{36}" + _E, "ghs_"),
    _rule("github-refresh-token", "GitHub refresh token", _B + r"ghr_[A-Za-z0-9]{36,76}" + _E, "ghr_"),
    _rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        _B + r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}" + _E,
        "github_pat_",
    ),
    _rule("gitlab-pat", "GitLab personal access token", _B + r"glpat-[A-Za-z0-9_\-]{20,64}" + r"(?![\w\-])", "glpat-"),
    _rule("gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", _B + r"glptt-[0-9a-f]{40}" + _E, "glptt-"),
    _rule("gitlab-runner-token", "GitLab runner token", _B + r"glrt-[A-Za-z0-9_\-]{20,64}(?![\w\-])", "glrt-"),
    _rule("gitlab-deploy-token", "GitLab deploy token", _B + r"gldt-[A-Za-z0-9_\-]{20,64}(?![\w\-])", "gldt-"),
    _rule("bitbucket-app-password", "Bitbucket app password", _B + r"ATBB[A-Za-z0-9_=.\-]{28,64}" + _E, "ATBB"),
    _rule("atlassian-api-token", "Atlassian API token", _B + r"ATATT3[A-Za-z0-9_=\-]{150,250}" + _E, "ATATT3"),
    # --- chat and mail
    _rule(
        "slack-bot-token",
        "Slack bot token",
        _B + r"xoxb-[0-9]{10,13}-[0-9]{10,13}-?[A-Za-z0-9]{20,40}" + _E,
        "xoxb-",
    ),
    _rule(
        "slack-user-token",
        "Slack user token",
        _B + r"xox[pear]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{28,34}" + _E,
        "xoxp-",
        "xoxe-",
        "xoxa-",
        "xoxr-",
    ),
    _rule(
        "slack-app-token",
        "Slack app-level token",
        _B + r"xapp-\d-[A-Z0-9]{1,32}-\d{1,20}-[a-z0-9]{32,128}" + _E,
        "xapp-",
    ),
    _rule(
        "slack-webhook",
        "Slack incoming webhook URL",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/]{43,56})(?![A-Za-z0-9+/])",
        "hooks.slack.com/",
    ),
    _rule(
        "discord-webhook",
        "Discord webhook URL",
        r"discord(?:app)?\.com/api/webhooks/\d{15,20}/(?P<s>[A-Za-z0-9_\-]{60,70})(?![\w\-])",
        "/api/webhooks/",
    ),
    _rule(
        "sendgrid-api-key",
        "SendGrid API key",
        _B + r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}(?![\w\-])",
        "SG.",
    ),
    _rule("mailgun-api-key", "Mailgun API key", _B + r"key-[0-9a-f]{32}" + _E, "key-"),
    _rule("mailchimp-api-key", "Mailchimp API key", _B + r"[0-9a-f]{32}-us[0-9]{1,2}" + _E, "-us"),
    _rule("twilio-api-key", "Twilio API key", _B + r"SK[0-9a-fA-F]{32}" + _E, "SK"),
    _rule(
        "telegram-bot-token",
        "Telegram bot token",
        r"(?<![\w:])[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?![\w\-])",
        ":AA",
    ),
    # --- payments
    _rule(
        "stripe-secret-key",
        "Stripe secret key",
        _B + r"sk_(?:live|test)_[A-Za-z0-9]{24,99}" + _E,
        "sk_live_",
        "sk_test_",
    ),
    _rule(
        "stripe-restricted-key",
        "Stripe restricted key",
        _B + r"rk_(?:live|test)_[A-Za-z0-9]{24,99}" + _E,
        "rk_live_",
        "rk_test_",
    ),
    _rule("stripe-webhook-secret", "Stripe webhook signing secret", _B + r"whsec_[A-Za-z0-9]{32,64}" + _E, "whsec_"),
    _rule(
        "square-access-token",
        "Square access token",
        _B + r"(?:EAAA[A-Za-z0-9_\-]{60}|sq0atp-[A-Za-z0-9_\-]{22})(?![\w\-])",
        "EAAA",
        "sq0atp-",
    ),
    _rule("square-oauth-secret", "Square OAuth secret", _B + r"sq0csp-[A-Za-z0-9_\-]{43}(?![\w\-])", "sq0csp-"),
    # --- AI providers
    _rule(
        "openai-api-key",
        "OpenAI API key",
        _B + r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}" + _E,
        "T3BlbkFJ",
    ),
    _rule(
        "openai-project-key",
        "OpenAI project or service-account key",
        _B + r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}(?![\w\-])",
        "sk-proj-",
        "sk-svcacct-",
        "sk-admin-",
    ),
    _rule(
        "anthropic-api-key",
        "Anthropic API key",
        _B + r"sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{80,120}(?![\w\-])",
        "sk-ant-",
    ),
    _rule("huggingface-token", "Hugging Face access token", _B + r"hf_[A-Za-z0-9]{34}" + _E, "hf_"),
    # --- package registries
    _rule("npm-token", "npm access token", _B + r"npm_[A-Za-z0-9]{36}" + _E, "npm_"),
    _rule(
        "pypi-token",
        "PyPI upload token",
        _B + r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300}(?![\w\-])",
        "pypi-AgEIcHlwaS5vcmc",
    ),
    _rule("rubygems-api-key", "RubyGems API key", _B + r"rubygems_[0-9a-f]{48}" + _E, "rubygems_"),
    # --- infrastructure and SaaS
    _rule(
        "vault-service-token", "HashiCorp Vault service token", _B + r"hvs\.[A-Za-z0-9_\-]{90,120}(?![\w\-])", "hvs."
    ),
    _rule("vault-batch-token", "HashiCorp Vault batch token", _B + r"hvb\.[A-Za-z0-9_\-]{130,300}(?![\w\-])", "hvb."),
    _rule(
        "terraform-cloud-token",
        "Terraform Cloud API token",
        _B + r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}(?![\w=\-])",
        ".atlasv1.",
    ),
    _rule(
        "digitalocean-token",
        "DigitalOcean token",
        _B + r"do[por]_v1_[a-f0-9]{64}" + _E,
        "dop_v1_",
        "doo_v1_",
        "dor_v1_",
    ),
    _rule("databricks-token", "Databricks API token", _B + r"dapi[a-f0-9]{32}(?:-\d)?" + _E, "dapi"),
    _rule("doppler-token", "Doppler token", _B + r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}" + _E, "dp."),
    _rule(
        "newrelic-api-key",
        "New Relic API key",
        _B + r"(?:NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_\-]{32}|NRJS-[a-f0-9]{19})(?![\w\-])",
        "NRAK-",
        "NRII-",
        "NRJS-",
    ),
    _rule("postman-api-key", "Postman API key", _B + r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}" + _E, "PMAK-"),
    _rule("linear-api-key", "Linear API key", _B + r"lin_api_[A-Za-z0-9]{40}" + _E, "lin_api_"),
    _rule(
        "shopify-token",
        "Shopify access token",
        _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E,
        "shpat_",
        "shpca_",
        "shppa_",
        "shpss_",
    ),
    _rule(
        "grafana-token",
        "Grafana token",
        _B + r"(?:glc_[A-Za-z0-9+/]{32,400}={0,2}(?![\w+/=])|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?!\w))",
        "glc_",
        "glsa_",
    ),
    _rule("pulumi-token", "Pulumi access token", _B + r"pul-[a-f0-9]{40}" + _E, "pul-"),
    _rule("heroku-api-key", "Heroku API key", _B + r"HRKU-AA[A-Za-z0-9_\-]{58}(?![\w\-])", "HRKU-"),
    _rule("flyio-token", "Fly.io access token", _B + r"fo1_[A-Za-z0-9_\-]{43}(?![\w\-])", "fo1_"),
    _rule(
        "age-secret-key",
        "age secret key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        "AGE-SECRET-KEY-1",
    ),
    # --- formats
    _rule(
        "jwt",
        "JSON Web Token",
        _B + r"eyJ[A-Za-z0-9_\-]{10,4096}\.eyJ[A-Za-z0-9_\-]{10,8192}\.[A-Za-z0-9_\-]{10,4096}(?![\w\-])",
        "eyJ",
    ),
)

URL_CREDENTIALS = Rule(
    "url-credentials",
    "password in a URL",
    re.compile(
        r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/?#@'\"<>]{1,128}:(?P<s>[^\s/?#@'\"<>]{3,256})@"
        r"[A-Za-z0-9.\-\[\]]+"
    ),
    ("://",),
    confidence=Confidence.HIGH,
    priority=2,
    in_run=False,
)

# Key names that mark an assignment as holding a secret (``password = "…"``, ``api_key: …``).
_SENSITIVE_NAMES = (
    r"passwd|password|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?key"
    r"|private[_\-]?key|credentials?|client[_\-]?secret|signing[_\-]?key|encryption[_\-]?key"
)
GENERIC_ASSIGNMENT = Rule(
    "generic-secret",
    "secret in an assignment",
    re.compile(
        r"(?P<key>(?i:" + _SENSITIVE_NAMES + r")[A-Za-z0-9_.\-]{0,64})[\"'`]?\]?"
        r"[ \t]*(?::=|=>|==|=|:|[ \t](?=[\"']))[ \t]*"
        r"(?:\"(?P<dq>[^\"\n]{6,200})\"|'(?P<sq>[^'\n]{6,200})'|`(?P<bq>[^`\n]{6,200})`"
        r"|(?P<bare>[^\s\"'`,;(){}\[\]<>]{6,200}))"
    ),
    ("pass", "pwd", "secret", "token", "key", "credential"),
    ignore_case=True,
    confidence=Confidence.MEDIUM,
    priority=1,
    in_run=False,
)

# Private keys are found by :mod:`reviewbot.redact.engine` (they span lines); these name them.
PRIVATE_KEY_TITLES = {
    "private-key": "private key",
    "openssh-private-key": "OpenSSH private key",
    "pgp-private-key": "PGP private key",
    "gcp-service-account-key": "GCP service-account private key",
}

TITLES: dict[str, str] = {
    **{r.kind: r.title for r in PROVIDER_RULES},
    URL_CREDENTIALS.kind: URL_CREDENTIALS.title,
    GENERIC_ASSIGNMENT.kind: GENERIC_ASSIGNMENT.title,
    **PRIVATE_KEY_TITLES,
}


def secret_kinds() -> tuple[str, ...]:
    """Every built-in secret kind, sorted (PII kinds are in :mod:`reviewbot.redact.pii`)."""
    return tuple(sorted(TITLES))
