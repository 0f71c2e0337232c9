"""Structured logging: structlog in front, the standard library's handlers behind.

``configure_logging()`` once at process start (``tradesweep serve``, ``worker``, ``webhooks
deliver``). Every record, ours or a library's (uvicorn, SQLAlchemy, httpx), goes through one
processor chain and comes out as:

- ``json``: one JSON object per line (production; ``TRADESWEEP_LOG_FORMAT=json``);
- ``console``: aligned, coloured when a terminal (development; ``TRADESWEEP_LOG_FORMAT=console``).

The default is ``console`` when stderr is a terminal, ``json`` otherwise. Two kinds of library
noise never come out: uvicorn's ``color_message`` (a copy of the message with ANSI colour
codes, passed as an ``extra``) and Alembic's info lines (``Context impl SQLiteImpl.`` at every
revision check, ``Running upgrade ...`` when ``serve`` migrates its SQLite file): the processes
that configure logging only check or migrate the schema on the way, ``tradesweep db upgrade``
says what it did itself. Alembic's warnings and errors still come out.

Context bound with :func:`bind` / :func:`bound` (``request_id``, ``tenant``, ``job_id``) lands
on every line logged in that context (contextvars: per thread and per asyncio task). A
redaction step blanks values under secret-looking keys (``api_key``, ``authorization``, ``secret``,
``token``, ``password``, ``payload``, ``body``...) and masks API keys and ``whsec_`` secrets
found inside any string.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

LOG_FORMAT_ENV = "TRADESWEEP_LOG_FORMAT"
LOG_LEVEL_ENV = "TRADESWEEP_LOG_LEVEL"
FORMATS = ("json", "console")
REDACTED = "[redacted]"

LogFormat = Literal["json", "console"]

_SECRET_KEY = re.compile(
    r"(^|[_\-.])(api[_\-]?key|authorization|auth|cookie|set[_\-]cookie|secret|token|"
    r"password|passwd|signature|payload|body|webhook[_\-]secret)($|[_\-.])",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"whsec_[A-Za-z0-9+/=]+"  # webhook signing secrets
    r"|ts_[a-z0-9]{8}_[A-Za-z0-9_\-]+"  # API keys (tradesweep.store.tenants)
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+"  # Authorization header values
)

bind = bind_contextvars
"""Bind ``request_id=``, ``tenant=``, ``job_id=``... to every later line in this context."""
bound = bound_contextvars
"""``with bound(job_id=...):`` binds for the block, then restores."""
clear = clear_contextvars
"""Forget everything bound in this context (start of a request or a job)."""


def configure_logging(
    format: LogFormat | None = None,
    level: int | str | None = None,
    *,
    stream: TextIO | None = None,
) -> None:
    """Route structlog and the standard library through one chain to ``stream`` (stderr).

    ``format`` defaults to ``$TRADESWEEP_LOG_FORMAT``, else ``console`` on a terminal and
    ``json`` otherwise; ``level`` to ``$TRADESWEEP_LOG_LEVEL``, else INFO. Calling it again
    replaces the previous set-up (tests do).
    """
    stream = stream or sys.stderr
    chosen = format or os.environ.get(LOG_FORMAT_ENV) or _default_format(stream)
    if chosen not in FORMATS:
        raise ValueError(f"log format {chosen!r} is not one of {FORMATS} (${LOG_FORMAT_ENV})")
    resolved_level = _level(level if level is not None else os.environ.get(LOG_LEVEL_ENV, "INFO"))

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        drop_color_message,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    # Tracebacks never carry local variables (they may hold keys); redaction runs after the
    # exception is rendered to text, so an exception message is masked too.
    final: list[Processor]
    if chosen == "json":
        final = [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            redact,
            structlog.processors.JSONRenderer(default=str),
        ]
    else:
        final = [
            structlog.processors.format_exc_info,
            redact,
            structlog.dev.ConsoleRenderer(
                colors=_is_tty(stream), exception_formatter=structlog.dev.plain_traceback
            ),
        ]

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(_not_alembic_info)
    handler.set_name("tradesweep")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "tradesweep"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(resolved_level)
    # Libraries that install their own handlers would print twice or in another format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def get_logger(name: str | None = None) -> Any:
    """A structlog logger: ``log.info("event_name", key=value)``."""
    return structlog.stdlib.get_logger(name)


def drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Drop uvicorn's ``color_message`` extra: the message again, with ANSI colour codes."""
    event_dict.pop("color_message", None)
    return event_dict


def _not_alembic_info(record: logging.LogRecord) -> bool:
    """False for Alembic's records below WARNING (module docstring)."""
    return not (record.name.startswith("alembic") and record.levelno < logging.WARNING)


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Blank values under secret-looking keys, mask secrets inside strings, recursively."""
    return {key: _clean(key, value) for key, value in event_dict.items()}


def _clean(key: object, value: Any) -> Any:
    if isinstance(key, str) and _SECRET_KEY.search(key) and value is not None:
        return REDACTED
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {k: _clean(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(None, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_clean(None, v) for v in value)
    return value


def _level(level: int | str) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r} (${LOG_LEVEL_ENV})")
    return number


def _default_format(stream: TextIO) -> LogFormat:
    return "console" if _is_tty(stream) else "json"


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
