"""The metric table: one row per metric, the single source of every list of metric keys.

Each row says what a metric is called (``key``, data; ``label``, for people), what unit it is
in, how its value is shown (``decimals``, ``signed``) and coloured (``tone``), where its formula
is written (``anchor``, an id in ``docs/metrics.md``), why it can be null, and which short lists
it belongs to. :mod:`tradesweep.metrics.names` (the key lists and labels), the report and CLI
formatting, the store's metric columns, the API's ``/best`` rows and the dashboard's formatting
(through ``GET /api/v1/catalog``) are all derived from :data:`METRICS`.

Adding a metric: a row here, its formula under an ``<a id="key"></a>`` in ``docs/metrics.md``,
its column on ``tradesweep.store.models.SweepResultRow`` and an Alembic migration. The tests
check each of these against the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

Unit = Literal["date", "text", "count", "rate", "pct", "money", "ratio", "days", "number"]
"""``date``: a timestamp; ``text``: shown as it is; ``count``: a whole number; ``rate``: a count
per time (bars a year, trades a month); ``pct``: percent; ``money``: cash, in the account's
currency; ``ratio``: a dimensionless ratio; ``days``: a span in days; ``number``: any other
number (the composite score)."""

ToneRule = Literal["sign", "above_one", "above_cash", "none"]
"""When a value reads as a gain or a loss: ``sign``, above or below zero; ``above_one``, above or
below 1 (profit factor); ``above_cash``, above or below the initial cash (final equity; no
tone where the cash is unknown); ``none``, never."""

View = Literal["best_api", "sweep_summary", "sweep_report"]
"""The short lists a metric can be in: ``best_api``, the metrics of each ``/best`` row of the
API; ``sweep_summary``, the CLI's sweep table and a sweep job's ``result["best"]``;
``sweep_report``, the table of top results in the HTML sweep report."""

Source = Literal["backtest", "sweep"]
"""``backtest``: a key of ``compute_metrics`` (:data:`tradesweep.metrics.KEYS`); ``sweep``:
computed when a sweep ranks its rows (the composite ``score``)."""

UNITS: tuple[str, ...] = get_args(Unit)
TONE_RULES: tuple[str, ...] = get_args(ToneRule)
VIEWS: tuple[str, ...] = get_args(View)
SOURCES: tuple[str, ...] = get_args(Source)
NUMERIC_UNITS: frozenset[str] = frozenset(UNITS) - {"date", "text"}

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric.

    ``decimals``: digits after the point (None: up to six significant digits); ``signed``: a
    positive value is written with ``+``; ``anchor``: the ``<a id>`` of its formula in
    ``docs/metrics.md``; ``null_reason``: why it can be null (None: never null); ``shown_in``:
    the short lists it is in; ``alias``: the key's old name, sent beside it in ``/best`` rows
    until clients move (deprecated; docs/glossary.md); ``stored``: it
    has a column in ``sweep_results``.
    """

    key: str
    label: str
    unit: Unit
    tone: ToneRule
    decimals: int | None
    anchor: str
    signed: bool = False
    null_reason: str | None = None
    shown_in: frozenset[View] = frozenset()
    alias: str | None = None
    source: Source = "backtest"
    stored: bool = True

    @property
    def doc(self) -> str:
        """Where the formula is written, from the repository root."""
        return f"docs/metrics.md#{self.anchor}"


class MetricTableError(ValueError):
    """A row of the metric table is incomplete or contradicts another (a programming error:
    the table is code, not input)."""


def validate_table(rows: Iterable[Metric]) -> tuple[Metric, ...]:
    """``rows`` as a tuple if every row is complete and consistent, else raise
    :class:`MetricTableError` naming the row and the field to fix."""
    rows = tuple(rows)
    names: dict[str, str] = {}
    labels: dict[str, str] = {}
    for row in rows:
        problems = _row_problems(row)
        for name in (row.key, row.alias):
            if name is None:
                continue
            if name in names:
                problems.append(f"name {name!r} is already used by {names[name]!r}")
            names[name] = row.key
        if row.label in labels:
            problems.append(f"label {row.label!r} is already used by {labels[row.label]!r}")
        labels[row.label] = row.key
        if problems:
            raise MetricTableError(
                f"metric table row {row.key!r}: {'; '.join(problems)} "
                "(see docs/metrics.md, Adding a metric)"
            )
    clash = sorted(set(labels) & set(names))
    if clash:
        raise MetricTableError(f"labels {clash} are also metric keys; labels are for display only")
    return rows


def _row_problems(row: Metric) -> list[str]:
    problems = []
    if not _KEY.match(row.key):
        problems.append("key must be snake_case")
    if not row.label.strip():
        problems.append("label is empty")
    if row.unit not in UNITS:
        problems.append(f"unit {row.unit!r} is not one of {', '.join(UNITS)}")
    if row.tone not in TONE_RULES:
        problems.append(f"tone {row.tone!r} is not one of {', '.join(TONE_RULES)}")
    if not _KEY.match(row.anchor.replace("-", "_")):
        problems.append("anchor (the id of its formula in docs/metrics.md) is empty or not an id")
    if row.source not in SOURCES:
        problems.append(f"source {row.source!r} is not one of {', '.join(SOURCES)}")
    unknown_views = set(row.shown_in) - set(VIEWS)
    if unknown_views:
        problems.append(f"shown_in {sorted(unknown_views)} are not among {', '.join(VIEWS)}")
    if row.unit in NUMERIC_UNITS:
        if row.decimals is not None and not 0 <= row.decimals <= 6:
            problems.append("decimals must be None or 0..6")
        if row.unit == "count" and row.decimals != 0:
            problems.append("a count has 0 decimals")
    else:
        if row.decimals is not None or row.signed or row.tone != "none":
            problems.append(f"a {row.unit} value has no decimals, sign or tone")
    if row.alias is not None and not _KEY.match(row.alias):
        problems.append("alias must be snake_case")
    return problems


_NO_TRADES = "no trades"
_SHORT = "fewer than 2 bars"
_RUIN = "equity reached zero or below before the last bar, so later returns are undefined"
_NO_PPY = "bars per year unknown (one bar and no periods_per_year given)"
_NO_WIN = "no winning trade (pnl > 0)"
_NO_LOSS = "no losing trade (pnl < 0)"

_BEST = frozenset[View]({"best_api"})
_ALL = frozenset[View]({"best_api", "sweep_summary", "sweep_report"})
_REPORT = frozenset[View]({"sweep_report"})

# fmt: off
METRICS: tuple[Metric, ...] = validate_table((
    # period
    Metric("start", "Start", "date", "none", None, "start"),
    Metric("end", "End", "date", "none", None, "end"),
    Metric("bars", "Bars", "count", "none", 0, "bars"),
    Metric("periods_per_year", "Bars per year", "rate", "none", None, "periods_per_year",
           null_reason=_NO_PPY),
    # returns
    Metric("final_equity", "Final equity", "money", "above_cash", 2, "final_equity"),
    Metric("total_return_pct", "Total return [%]", "pct", "sign", 2, "total_return_pct",
           signed=True, shown_in=_ALL),
    Metric("buy_and_hold_return_pct", "Buy & hold return [%]", "pct", "sign", 2,
           "buy_and_hold_return_pct", signed=True,
           null_reason="the first close is zero, negative or not finite"),
    Metric("annualized_return_pct", "Annualized return (CAGR) [%]", "pct", "sign", 2,
           "annualized_return_pct", signed=True,
           null_reason=f"{_NO_PPY}; or the extrapolation overflows a float",
           shown_in=_BEST | _REPORT, alias="annualized_return"),
    Metric("annualized_volatility_pct", "Annualized volatility [%]", "pct", "none", 2,
           "annualized_volatility_pct", null_reason=f"{_SHORT}; {_RUIN}; {_NO_PPY}"),
    # risk-adjusted
    Metric("sharpe_ratio", "Sharpe ratio", "ratio", "sign", 2, "sharpe_ratio",
           null_reason=f"{_SHORT}; {_RUIN}; zero variance of returns (0/0 or unbounded)",
           shown_in=_ALL),
    Metric("sortino_ratio", "Sortino ratio", "ratio", "sign", 2, "sortino_ratio",
           null_reason=f"{_SHORT}; {_RUIN}; no bar with a negative return (unbounded)",
           shown_in=_BEST),
    Metric("calmar_ratio", "Calmar ratio", "ratio", "sign", 2, "calmar_ratio",
           null_reason="no drawdown (unbounded); or annualized_return_pct is null"),
    # drawdown
    Metric("max_drawdown_pct", "Max drawdown [%]", "pct", "sign", 2, "max_drawdown_pct",
           shown_in=_ALL),
    Metric("max_drawdown_duration_days", "Max drawdown duration [days]", "days", "none", 1,
           "max_drawdown_duration_days"),
    Metric("avg_drawdown_pct", "Avg drawdown [%]", "pct", "sign", 2, "avg_drawdown_pct"),
    # trades
    Metric("total_trades", "Trades", "count", "none", 0, "total_trades", shown_in=_ALL),
    Metric("win_rate_pct", "Win rate [%]", "pct", "none", 2, "win_rate_pct",
           null_reason=_NO_TRADES, shown_in=_ALL),
    Metric("profit_factor", "Profit factor", "ratio", "above_one", 2, "profit_factor",
           null_reason=f"{_NO_TRADES}; or no losing trade (zero gross loss: unbounded)",
           shown_in=_BEST | _REPORT),
    Metric("expectancy_pct", "Expectancy [%]", "pct", "sign", 2, "expectancy_pct",
           signed=True, null_reason=_NO_TRADES),
    Metric("avg_trade_pct", "Avg trade (geometric) [%]", "pct", "sign", 2, "avg_trade_pct",
           signed=True,
           null_reason=f"{_NO_TRADES}; or a trade lost 100 % or more (no geometric mean)"),
    Metric("best_trade_pct", "Best trade [%]", "pct", "sign", 2, "best_trade_pct",
           signed=True, null_reason=_NO_TRADES),
    Metric("worst_trade_pct", "Worst trade [%]", "pct", "sign", 2, "worst_trade_pct",
           signed=True, null_reason=_NO_TRADES),
    Metric("avg_win", "Avg win [cash]", "money", "sign", 2, "avg_win", signed=True,
           null_reason=_NO_WIN),
    Metric("avg_loss", "Avg loss [cash]", "money", "sign", 2, "avg_loss", signed=True,
           null_reason=_NO_LOSS),
    Metric("largest_win", "Largest win [cash]", "money", "sign", 2, "largest_win",
           signed=True, null_reason=_NO_WIN),
    Metric("largest_loss", "Largest loss [cash]", "money", "sign", 2, "largest_loss",
           signed=True, null_reason=_NO_LOSS),
    Metric("avg_trade_duration_days", "Avg trade duration [days]", "days", "none", 1,
           "avg_trade_duration_days", null_reason=_NO_TRADES),
    Metric("avg_trade_duration", "Avg trade duration", "text", "none", None,
           "avg_trade_duration", null_reason=_NO_TRADES, shown_in=_BEST),
    Metric("trades_per_month", "Trades per month", "rate", "none", 2, "trades_per_month",
           null_reason="no time elapsed between the first and the last bar (one bar)",
           shown_in=_BEST),
    # activity and engine counters
    Metric("exposure_pct", "Exposure [%]", "pct", "none", 2, "exposure_pct"),
    Metric("total_fees", "Total fees [cash]", "money", "none", 2, "total_fees"),
    Metric("stop_and_target_same_bar", "Stop and target on the same bar", "count", "none", 0,
           "stop_and_target_same_bar"),
    # ranking
    Metric("score", "Score", "number", "sign", 3, "score", shown_in=_BEST, source="sweep"),
))
# fmt: on
"""Every metric, in display order: the keys of ``compute_metrics`` first, then ``score``."""

BY_NAME = MappingProxyType(
    {name: row for row in METRICS for name in (row.key, row.alias) if name is not None}
)
"""Each row by its key and by its alias."""


def metric_of(name: str) -> Metric | None:
    """The row of a key or alias, None for a name that is not a metric."""
    return BY_NAME.get(name)
