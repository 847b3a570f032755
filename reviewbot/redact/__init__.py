"""Secret and PII redaction (DESIGN.md §6): masked before any model sees text, and again on every exit.

Use one :class:`Redactor` per run (``Redactor.from_config(policy.redaction)``):

- ``redactor.scrub(text) -> RedactedText`` for every outgoing string;
- ``redactor.redact(text) -> RedactionResult`` when you also need what was masked where;
- :func:`secret_findings` for the secrets a diff adds;
- :func:`install_logging_filter` so log records are masked too.
"""

from .engine import (
    PLACEHOLDER,
    Redaction,
    RedactionPatternError,
    RedactionResult,
    Redactor,
    confidence_of,
    is_pii,
)
from .findings import SOURCE, secret_findings
from .logfilter import RedactingFilter, install_logging_filter
from .pii import PII_KINDS
from .rules import PROVIDER_RULES, TITLES, secret_kinds

__all__ = [
    "PII_KINDS",
    "PLACEHOLDER",
    "PROVIDER_RULES",
    "SOURCE",
    "TITLES",
    "RedactingFilter",
    "Redaction",
    "RedactionPatternError",
    "RedactionResult",
    "Redactor",
    "confidence_of",
    "install_logging_filter",
    "is_pii",
    "secret_findings",
    "secret_kinds",
]
