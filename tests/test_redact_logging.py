"""The logging filter masks messages, arguments, exceptions and stacks before any handler writes them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from reviewbot.redact import RedactingFilter, Redactor, install_logging_filter

GH = "ghp_aBcdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("reviewbot.test.redact")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log, stream
    log.handlers.clear()
    log.filters.clear()


def test_message_and_args_are_masked(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    install_logging_filter(Redactor(), log)
    log.info("token %s for %r", GH, {"k": GH})
    log.warning(f"inline {GH}")
    out = stream.getvalue()
    assert GH not in out
    assert out.count("[REDACTED:github-pat:1]") == 3


def test_exception_text_is_masked(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    install_logging_filter(Redactor(), log)
    try:
        raise ValueError(f"bad key {GH}")
    except ValueError:
        log.exception("failed")
    assert GH not in stream.getvalue()
    assert "ValueError: bad key [REDACTED:github-pat:1]" in stream.getvalue()


def test_child_logger_records_are_masked_by_the_handler_filter(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    install_logging_filter(Redactor(), log)
    child = logging.getLogger("reviewbot.test.redact.child")
    child.error("child says %s", GH)
    assert GH not in stream.getvalue()
    assert "child says [REDACTED:github-pat:1]" in stream.getvalue()


def test_installing_twice_adds_one_filter(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, _ = logger
    first = install_logging_filter(Redactor(), log)
    second = install_logging_filter(Redactor(), log)
    assert first is second
    assert sum(isinstance(f, RedactingFilter) for f in log.filters) == 1
    assert sum(isinstance(f, RedactingFilter) for f in log.handlers[0].filters) == 1


def test_bad_format_string_still_logs_masked(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    install_logging_filter(Redactor(), log)
    log.info("%d items " + GH, "not-a-number")
    assert GH not in stream.getvalue()


def test_caplog_sees_masked_records(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("reviewbot.test.redact.caplog")
    flt = RedactingFilter(Redactor())
    caplog.handler.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO):
            log.info("key=%s", GH)
    finally:
        caplog.handler.removeFilter(flt)
    assert GH not in caplog.text
    assert caplog.records[0].getMessage() == "key=[REDACTED:github-pat:1]"
