"""Observability: structured logging and Prometheus metrics (docs/observability.md).

Nothing here is global until asked: :func:`configure_logging` sets up the process's logging
once at start, and each :class:`Metrics` owns its own registry.
"""

from tradesweep.observe.logging import (
    LOG_FORMAT_ENV,
    LOG_LEVEL_ENV,
    bind,
    bound,
    clear,
    configure_logging,
    get_logger,
    redact,
)
from tradesweep.observe.prometheus import Metrics, Snapshot

__all__ = [
    "LOG_FORMAT_ENV",
    "LOG_LEVEL_ENV",
    "Metrics",
    "Snapshot",
    "bind",
    "bound",
    "clear",
    "configure_logging",
    "get_logger",
    "redact",
]
