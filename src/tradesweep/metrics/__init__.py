"""tradesweep.metrics: one place for every statistic and its formula.

:func:`compute_metrics` turns one backtest's arrays into a JSON-safe dict keyed by
:data:`KEYS`; ``docs/metrics.md`` defines each key. Labels for display live in :data:`LABELS`,
apart from the keys.
"""

from tradesweep.metrics.drawdown import DrawdownEpisodes, drawdown_episodes, drawdown_series
from tradesweep.metrics.names import KEYS, LABELS, NULL_REASONS, OBJECTIVES
from tradesweep.metrics.periods import infer_periods_per_year
from tradesweep.metrics.returns import bar_returns, monthly_returns
from tradesweep.metrics.summary import compute_metrics, metrics_from_result, to_json_safe

__all__ = [
    "KEYS",
    "LABELS",
    "NULL_REASONS",
    "OBJECTIVES",
    "DrawdownEpisodes",
    "bar_returns",
    "compute_metrics",
    "drawdown_episodes",
    "drawdown_series",
    "infer_periods_per_year",
    "metrics_from_result",
    "monthly_returns",
    "to_json_safe",
]
