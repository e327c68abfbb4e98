"""Logs never carry the bot token, phone numbers or rejected inputs, at any level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from index.leads.models import LeadCreate
from index.logs import RedactingFilter, configure_logging, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """A root handler writing to a string, as configure_logging sets up, removed afterwards."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([TOKEN]))
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_redact_masks_tokens_in_urls_phones_and_secrets() -> None:
    line = (
        f"POST https://api.telegram.org/bot{TOKEN}/getUpdates from 0912 345 678, "
        "+84912345678 and 84905123456; update 123456789 at 2026-12-01 12:01:55"
    )
    masked = redact(line, ["s3cret"])
    assert TOKEN not in masked and "bot<token>/getUpdates" in masked
    assert "0912 345 678" not in masked and "+84912345678" not in masked
    assert "84905123456" not in masked
    # Ids and timestamps are not phone numbers.
    assert "update 123456789 at 2026-12-01 12:01:55" in masked
    assert redact("password s3cret", ["s3cret"]) == "password <token>"


def test_every_level_and_the_traceback_are_masked(log_stream: io.StringIO) -> None:
    logger = logging.getLogger("tests.logs")
    logger.debug("Calling https://api.telegram.org/bot%s/sendMessage", TOKEN)
    logger.info("Lead phone %s", "0912345678")
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logger.exception("Start-up failed")
    output = log_stream.getvalue()
    assert TOKEN not in output
    assert "0912345678" not in output
    assert output.count("<token>") == 2 and "<phone>" in output
    assert "Start-up failed" in output and "RuntimeError" in output


def test_rejected_input_values_are_hidden(log_stream: io.StringIO) -> None:
    with pytest.raises(ValidationError) as caught:
        LeadCreate(
            full_name="Nguyễn Văn Ánh",
            phone="12",
            establishment_name="",
            province="Đồng Tháp",
            consent_at="2026-03-01T00:00:00Z",  # type: ignore[arg-type]
        )
    logging.getLogger("tests.logs").warning("Lead draft rejected: %s", caught.value)
    output = log_stream.getvalue()
    assert "Lead draft rejected" in output and "input_value=<hidden>" in output
    assert "'12'" not in output


def test_configure_logging_quiets_libraries_and_installs_the_filter() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        for handler in before:
            root.removeHandler(handler)
        configure_logging("DEBUG", stream=io.StringIO(), secrets=[TOKEN])
        assert logging.getLogger("httpx").level == logging.WARNING
        assert logging.getLogger("httpcore").level == logging.WARNING
        # PTB dumps whole updates (what users typed) at DEBUG.
        assert logging.getLogger("telegram").level == logging.INFO
        assert any(
            isinstance(f, RedactingFilter) and TOKEN in f.secrets
            for handler in root.handlers
            for f in handler.filters
        )
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        for name in ("httpx", "httpcore", "telegram"):
            logging.getLogger(name).setLevel(logging.NOTSET)
