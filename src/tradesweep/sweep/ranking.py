"""Ranking sweep results by an objective, and the composite ``score``.

Every objective is "higher is better". Combinations with too few trades stay in the results but
are flagged and left unranked; so are combinations whose objective is null. The formulas and
the reasons behind them are in ``docs/sweeps.md`` (sections "Ranking" and "Score").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.errors import SettingsError, did_you_mean
from tradesweep.metrics.names import OBJECTIVES

SCORE_TRADES_REF = 30
SCORE_INPUTS: tuple[str, ...] = ("sharpe_ratio", "max_drawdown_pct", "total_trades")


def composite_score(
    sharpe_ratio: Any,
    max_drawdown_pct: Any,
    total_trades: Any,
    trades_ref: float = SCORE_TRADES_REF,
) -> Any:
    """The composite score of one or many combinations::

        w     = (1 - min(|max_drawdown_pct|, 100) / 100) * min(1, sqrt(total_trades / trades_ref))
        score = SR - |SR| * (1 - w)

    i.e. ``SR * w`` for a positive Sharpe ratio SR and ``SR * (2 - w)`` for a negative one, so a
    deeper drawdown or fewer trades always lowers the score and never flips its sign. NaN (null)
    where any input is null or not finite. Scalars in, float out; arrays in, array out."""
    if not trades_ref > 0:
        raise SettingsError(
            f"the score's reference trade count must be positive, got {trades_ref!r}",
            fix=f"give e.g. {SCORE_TRADES_REF}",
            field="trades_ref",
        )
    sr = _floats(sharpe_ratio)
    drawdown = np.minimum(np.abs(_floats(max_drawdown_pct)), 100.0)
    trades = np.maximum(_floats(total_trades), 0.0)
    defined = np.isfinite(sr) & np.isfinite(drawdown) & np.isfinite(trades)
    with np.errstate(invalid="ignore"):  # inf inputs: masked to NaN below
        weight = (1.0 - drawdown / 100.0) * np.minimum(1.0, np.sqrt(trades / trades_ref))
        score = np.where(defined, sr - np.abs(sr) * (1.0 - weight), np.nan)
    return float(score) if score.ndim == 0 else score


def validate_objective(objective: str) -> str:
    """Return ``objective`` if it is one of :data:`OBJECTIVES`, else raise with a did-you-mean."""
    if objective in OBJECTIVES:
        return objective
    raise SettingsError(
        f"unknown objective {objective!r}",
        fix=f"{did_you_mean(objective, OBJECTIVES)}objectives: {', '.join(OBJECTIVES)}",
        field="objective",
    )


def rank(
    results: pd.DataFrame,
    objective: str = "score",
    min_trades: int = 1,
    params: Sequence[str] = (),
) -> pd.DataFrame:
    """Rank sweep results by ``objective`` (descending), returning a copy with two new columns.

    * ``below_min_trades``: ``total_trades < min_trades`` (a null trade count counts as below);
      those rows are kept but not ranked.
    * ``rank``: 1..K over the remaining rows whose objective is not null (nullable Int64; null
      for the rest). Ties are broken by the ``params`` columns ascending, then by input order.

    For ``objective="score"`` a missing ``score`` column is computed with
    :func:`composite_score`. Rows come back ranked first (by rank), then the unranked rows in
    input order; the index is kept."""
    objective = validate_objective(objective)
    if isinstance(min_trades, bool) or not (isinstance(min_trades, int) and min_trades >= 0):
        raise SettingsError(
            f"min_trades must be a non-negative integer, got {min_trades!r}",
            fix="give e.g. min_trades=10",
            field="min_trades",
        )
    out = results.copy()
    if objective == "score" and "score" not in out.columns:
        _require(out, SCORE_INPUTS, "to compute the score")
        out["score"] = composite_score(
            _floats(out["sharpe_ratio"]),
            _floats(out["max_drawdown_pct"]),
            _floats(out["total_trades"]),
        )
    _require(out, (objective, "total_trades", *params), "to rank")
    values = _floats(out[objective])
    trades = _floats(out["total_trades"])
    below = ~(trades >= min_trades)
    eligible = np.flatnonzero(~below & ~np.isnan(values))
    # np.lexsort sorts by the last key first: objective descending, then params, then position.
    keys = [eligible, *(out[p].to_numpy()[eligible] for p in reversed(params))]
    order = eligible[np.lexsort([*keys, -values[eligible]])]
    ranks = pd.array([pd.NA] * len(out), dtype="Int64")
    ranks[order] = np.arange(1, order.shape[0] + 1)
    out["below_min_trades"] = below
    out["rank"] = ranks
    unranked = np.flatnonzero(ranks.isna())
    return out.iloc[np.concatenate([order, unranked])]


def _floats(x: Any) -> np.ndarray:
    """float64 with NaN for nulls, from scalars, arrays or Series (nullable dtypes included)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return x.astype(np.float64)
    if isinstance(x, pd.Series):
        return pd.to_numeric(x).to_numpy(dtype=np.float64, na_value=np.nan)
    raw = np.asarray(x, dtype=object)
    values = pd.to_numeric(pd.Series(raw.reshape(-1))).to_numpy(dtype=np.float64, na_value=np.nan)
    return values.reshape(raw.shape)


def _require(frame: pd.DataFrame, columns: Sequence[str], purpose: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SettingsError(
            f"the results have no column {', '.join(map(repr, missing))} {purpose}",
            fix=f"results need the columns {', '.join(columns)}; "
            f"they have {', '.join(map(str, frame.columns))}",
            field=missing[0],
        )
