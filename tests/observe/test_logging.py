"""Structured logs: JSON lines parse, bound ids appear, secrets never do."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from tradesweep.observe import bind, bound, clear, configure_logging, get_logger
from tradesweep.observe.logging import LogFormat
from tradesweep.store import current_revision


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    clear()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_level_logger_timestamp_and_bound_ids() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    log = get_logger("tradesweep.test")
    with bound(request_id="req-1", tenant="acme", job_id="job-9"):
        log.info("job_started", combinations=42)
    log.info("outside")
    first, second = _lines(out)
    assert first["event"] == "job_started" and first["combinations"] == 42
    assert (first["request_id"], first["tenant"], first["job_id"]) == ("req-1", "acme", "job-9")
    assert first["level"] == "info" and first["logger"] == "tradesweep.test"
    assert first["timestamp"].endswith("Z")
    assert "job_id" not in second


def test_standard_library_records_come_out_the_same_way() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    bind(request_id="req-2")
    logging.getLogger("uvicorn.error").warning("worker %s stopped", "w1")
    (line,) = _lines(out)
    assert line["event"] == "worker w1 stopped"
    assert line["level"] == "warning" and line["logger"] == "uvicorn.error"
    assert line["request_id"] == "req-2"


SECRET_KEY = "ts_k3v9x2ab_" + "Q" * 43
WHSEC = "whsec_" + "A" * 43 + "="


def test_secrets_are_redacted_by_key_and_by_shape() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    get_logger().info(
        "request",
        api_key=SECRET_KEY,
        headers={"Authorization": f"Bearer {SECRET_KEY}", "X-API-Key": SECRET_KEY, "accept": "*/*"},
        webhook_secret=WHSEC,
        password="hunter2",
        token="t0k3n",
        payload={"event_type": "sweep.completed", "job_id": "j"},
        body=b"{...}",
        note=f"tenant secret is {WHSEC} and key {SECRET_KEY}",
        tokens_used=7,
    )
    logging.getLogger("httpx").info("sent %s", SECRET_KEY, extra={"secret": WHSEC})
    text = out.getvalue()
    for leaked in (SECRET_KEY, WHSEC, "hunter2", "t0k3n", "sweep.completed"):
        assert leaked not in text
    line, foreign = _lines(out)
    assert line["api_key"] == "[redacted]" and line["password"] == "[redacted]"
    assert line["headers"]["Authorization"] == "[redacted]"
    assert line["headers"]["accept"] == "*/*"
    assert line["payload"] == "[redacted]" and line["body"] == "[redacted]"
    assert line["note"] == "tenant secret is [redacted] and key [redacted]"
    assert line["tokens_used"] == 7  # not a secret: names are matched as words
    assert foreign["event"] == "sent [redacted]" and foreign["secret"] == "[redacted]"


def test_exceptions_are_structured_without_locals_and_redacted() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    try:
        local_secret = WHSEC  # noqa: F841  (a local a traceback with locals would show)
        raise ValueError(f"bad key {SECRET_KEY}")
    except ValueError:
        get_logger().exception("failed")
    (line,) = _lines(out)
    assert line["exception"][0]["exc_type"] == "ValueError"
    assert SECRET_KEY not in out.getvalue() and WHSEC not in out.getvalue()
    assert "locals" not in line["exception"][0]["frames"][0]


def test_console_format_is_readable_and_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setenv("TRADESWEEP_LOG_FORMAT", "console")
    configure_logging(stream=out)
    get_logger("t").warning("breaker_open", host="hooks.example.com", secret=WHSEC)
    text = out.getvalue()
    assert "breaker_open" in text and "host=hooks.example.com" in text
    assert WHSEC not in text and "secret=[redacted]" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_format_and_level_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setenv("TRADESWEEP_LOG_FORMAT", "json")
    monkeypatch.setenv("TRADESWEEP_LOG_LEVEL", "warning")
    configure_logging(stream=out)
    get_logger().info("hidden")
    get_logger().warning("shown")
    assert [line["event"] for line in _lines(out)] == ["shown"]
    monkeypatch.setenv("TRADESWEEP_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="TRADESWEEP_LOG_FORMAT"):
        configure_logging(stream=out)


def test_default_is_json_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADESWEEP_LOG_FORMAT", raising=False)
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger().info("x")
    assert _lines(out)[0]["event"] == "x"


def test_configuring_twice_does_not_print_twice() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    configure_logging("json", stream=out)
    get_logger().info("once")
    assert len(_lines(out)) == 1


@pytest.mark.parametrize("format", ["json", "console"])
def test_uvicorn_color_message_and_alembic_context_lines_never_come_out(
    format: LogFormat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    configure_logging(format, stream=out)
    # an earlier in-process uvicorn server (other tests) leaves its loggers at its own level
    uvicorn_error = logging.getLogger("uvicorn.error")
    monkeypatch.setattr(uvicorn_error, "disabled", False)
    monkeypatch.setattr(uvicorn_error, "level", uvicorn_error.level)  # restored after
    uvicorn_error.setLevel(logging.INFO)  # (setLevel also clears the loggers' level cache)
    # what uvicorn logs at start-up: the message, plus a coloured copy as an extra
    color = "Started server process [\x1b[36m%d\x1b[0m]"
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": color}
    )
    # what Alembic logs whenever it opens a migration context (a revision check included)
    current_revision(f"sqlite:///{tmp_path / 'x.db'}")
    text = out.getvalue()
    assert "Started server process [42]" in text
    assert "color_message" not in text and "\x1b[" not in text
    assert "alembic" not in text, text
