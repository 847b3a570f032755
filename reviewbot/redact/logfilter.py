"""A logging filter that masks every record before any handler writes it."""

from __future__ import annotations

import logging

from .engine import Redactor


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (``msg % args``), exception text and stack text through the redactor.

    Attach it to handlers (a filter on a logger does not see records propagated from
    its children); :func:`install_logging_filter` does that.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we can, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redactor.scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.scrub(record.stack_info)
        return True


def install_logging_filter(redactor: Redactor, logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one :class:`RedactingFilter` to ``logger`` (default: root) and to each of its handlers.

    Handlers added to the logger later must get it too: ``handler.addFilter(returned_filter)``.
    Returns the filter (installing twice adds it once).
    """
    target = logger if logger is not None else logging.getLogger()
    existing = next((f for f in target.filters if isinstance(f, RedactingFilter)), None)
    flt = existing if existing is not None else RedactingFilter(redactor)
    if existing is None:
        target.addFilter(flt)
    else:
        existing.redactor = redactor
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
