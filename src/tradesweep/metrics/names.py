"""Metric keys, their display labels, the objectives a sweep can rank by, and why a metric
can be null, all derived from the metric table (:data:`tradesweep.metrics.table.METRICS`).
Keys are data (snake_case, units in the name); labels are for people only."""

from __future__ import annotations

from types import MappingProxyType

from tradesweep.metrics.table import METRICS, View

KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if m.source == "backtest")
"""Every key of :func:`~tradesweep.metrics.compute_metrics`, in display order."""

OBJECTIVES: tuple[str, ...] = (
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "total_return_pct",
    "profit_factor",
    "win_rate_pct",
    "score",
)
"""What a sweep can rank by; all are higher-is-better. ``score`` is the sweep's composite."""

LABELS = MappingProxyType({m.key: m.label for m in METRICS})
"""Display label of each key in :data:`KEYS` and :data:`OBJECTIVES`."""

NULL_REASONS = MappingProxyType({m.key: m.null_reason for m in METRICS if m.null_reason})
"""Why each nullable key can be ``null``. Keys not listed are never null."""

ALIASES = MappingProxyType({m.alias: m.key for m in METRICS if m.alias})
"""Old names of a key, still sent beside it in API rows (``/best`` rows carry
``annualized_return`` too; deprecated, docs/glossary.md)."""


def keys_shown_in(view: View) -> tuple[str, ...]:
    """The keys of the rows in one short list of the table, in table order."""
    return tuple(m.key for m in METRICS if view in m.shown_in)
