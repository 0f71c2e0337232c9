"""Ranking sweep results and the composite score."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradesweep.errors import SettingsError
from tradesweep.sweep.ranking import OBJECTIVES, composite_score, rank, validate_objective


def results(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "fast": list(range(n)),
        "sharpe_ratio": [1.0] * n,
        "max_drawdown_pct": [-10.0] * n,
        "total_trades": [50] * n,
    }
    return pd.DataFrame(base | columns)


# ---- score -------------------------------------------------------------------------------------


def test_score_hand_computed() -> None:
    # SR 1.5, drawdown 20 %, 30 trades (= reference): w = 0.8 * 1 -> 1.2
    assert composite_score(1.5, -20.0, 30) == pytest.approx(1.2)
    # 120 trades count no more than 30
    assert composite_score(1.5, 20.0, 120) == pytest.approx(1.2)
    # 7.5 trades: w = 0.8 * sqrt(7.5 / 30) = 0.8 * 0.5 = 0.4 -> 0.6
    assert composite_score(1.5, -20.0, 7.5) == pytest.approx(0.6)
    # negative SR -1, drawdown 50 %, 30 trades: w = 0.5 -> -1 - 1 * 0.5 = -1.5
    assert composite_score(-1.0, -50.0, 30) == pytest.approx(-1.5)
    # a 100 % (or worse) drawdown: w = 0 -> 0 for a winner, 2 * SR for a loser
    assert composite_score(2.0, -100.0, 30) == 0.0
    assert composite_score(-2.0, -150.0, 30) == pytest.approx(-4.0)
    assert composite_score(0.0, -30.0, 3) == 0.0


def test_score_nulls() -> None:
    for args in [(None, -10, 30), (1.0, None, 30), (1.0, -10, None), (math.inf, -10, 30)]:
        assert math.isnan(composite_score(*args))
    arr = composite_score(np.array([1.0, np.nan]), np.array([0.0, 0.0]), np.array([30, 30]))
    assert arr[0] == 1.0 and np.isnan(arr[1])
    nullable = pd.Series([1.0, None], dtype="Float64")
    out = composite_score(nullable, pd.Series([0.0, 0.0]), pd.Series([30, 30]))
    assert out[0] == 1.0 and np.isnan(out[1])
    with pytest.raises(SettingsError):
        composite_score(1.0, 0.0, 30, trades_ref=0)


finite = st.floats(-5, 5, allow_nan=False)
drawdowns = st.floats(0, 120, allow_nan=False)
trades = st.integers(0, 500)


@given(sr=finite, dd1=drawdowns, dd2=drawdowns, n=trades)
def test_score_never_rewards_a_deeper_drawdown(sr: float, dd1: float, dd2: float, n: int) -> None:
    low, high = sorted([dd1, dd2])
    assert composite_score(sr, -high, n) <= composite_score(sr, -low, n) + 1e-12


@given(sr=finite, dd=drawdowns, n1=trades, n2=trades)
def test_score_never_rewards_fewer_trades(sr: float, dd: float, n1: int, n2: int) -> None:
    few, many = sorted([n1, n2])
    assert composite_score(sr, -dd, few) <= composite_score(sr, -dd, many) + 1e-12


@given(sr1=finite, sr2=finite, dd=drawdowns, n=trades)
def test_score_rises_with_sharpe_and_keeps_its_sign(
    sr1: float, sr2: float, dd: float, n: int
) -> None:
    low, high = sorted([sr1, sr2])
    assert composite_score(low, -dd, n) <= composite_score(high, -dd, n) + 1e-12
    score = composite_score(sr1, -dd, n)
    assert score * sr1 >= 0
    assert abs(score) <= 2 * abs(sr1) + 1e-12


# ---- objectives --------------------------------------------------------------------------------


def test_objectives() -> None:
    assert set(OBJECTIVES) == {
        "score",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "total_return_pct",
        "profit_factor",
        "win_rate_pct",
    }
    assert validate_objective("calmar_ratio") == "calmar_ratio"
    with pytest.raises(SettingsError, match="did you mean 'sharpe_ratio'"):
        validate_objective("sharpe")


# ---- rank --------------------------------------------------------------------------------------


def test_rank_orders_descending_and_keeps_everything() -> None:
    frame = results(sharpe_ratio=[0.5, 2.0, -1.0, 1.0])
    ranked = rank(frame, "sharpe_ratio", min_trades=1)
    assert ranked["fast"].tolist() == [1, 3, 0, 2]
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert str(ranked["rank"].dtype) == "Int64"
    assert not ranked["below_min_trades"].any()
    assert ranked.index.tolist() == [1, 3, 0, 2]  # the input index travels with the rows
    assert "rank" not in frame.columns  # the input is not modified


def test_thin_trade_counts_are_flagged_not_ranked() -> None:
    frame = results(sharpe_ratio=[3.0, 2.0, 1.0, 4.0], total_trades=[4, 10, 25, None])
    ranked = rank(frame, "sharpe_ratio", min_trades=10)
    assert ranked["fast"].tolist() == [1, 2, 0, 3]
    assert ranked["rank"].tolist()[:2] == [1, 2]
    assert ranked["rank"].isna().tolist() == [False, False, True, True]
    assert ranked["below_min_trades"].tolist() == [False, False, True, True]


def test_null_objective_is_unranked_and_last() -> None:
    frame = results(profit_factor=[None, 1.5, np.nan, 2.0])
    ranked = rank(frame, "profit_factor", min_trades=1)
    assert ranked["fast"].tolist() == [3, 1, 0, 2]
    assert ranked["rank"].isna().tolist() == [False, False, True, True]
    assert not ranked["below_min_trades"].any()


def test_ties_break_by_parameters_then_input_order() -> None:
    frame = pd.DataFrame(
        {
            "fast": [20, 10, 10, 5],
            "slow": [50, 60, 40, 90],
            "sharpe_ratio": [1.0, 1.0, 1.0, 0.5],
            "max_drawdown_pct": [0.0] * 4,
            "total_trades": [40] * 4,
        }
    )
    by_params = rank(frame, "sharpe_ratio", params=["fast", "slow"])
    assert list(zip(by_params["fast"], by_params["slow"], strict=True)) == [
        (10, 40),
        (10, 60),
        (20, 50),
        (5, 90),
    ]
    by_position = rank(frame, "sharpe_ratio")
    assert by_position["slow"].tolist() == [50, 60, 40, 90]


def test_rank_by_score_computes_it_when_missing() -> None:
    frame = results(
        sharpe_ratio=[1.0, 1.5, 2.0], max_drawdown_pct=[-10.0, -50.0, -80.0], total_trades=[30] * 3
    )
    ranked = rank(frame)  # objective="score": 0.9, 0.75, 0.4
    assert ranked["fast"].tolist() == [0, 1, 2]
    assert ranked["score"].tolist() == pytest.approx([0.9, 0.75, 0.4])
    given_score = frame.assign(score=[0.1, 0.3, 0.2])
    assert rank(given_score)["fast"].tolist() == [1, 2, 0]


def test_nullable_columns_from_the_store() -> None:
    frame = results(sharpe_ratio=[1.0, 2.0, 3.0]).astype({"sharpe_ratio": "Float64"})
    frame.loc[2, "sharpe_ratio"] = pd.NA
    assert rank(frame, "sharpe_ratio")["fast"].tolist() == [1, 0, 2]


def test_rank_input_errors() -> None:
    frame = results(sharpe_ratio=[1.0])
    with pytest.raises(SettingsError, match="no column 'sortino_ratio'"):
        rank(frame, "sortino_ratio")
    with pytest.raises(SettingsError, match="unknown objective"):
        rank(frame, "sortino")
    with pytest.raises(SettingsError, match="min_trades"):
        rank(frame, "sharpe_ratio", min_trades=-1)
    with pytest.raises(SettingsError, match="to compute the score"):
        rank(frame.drop(columns="max_drawdown_pct"))


def test_empty_results() -> None:
    ranked = rank(results(sharpe_ratio=[]), "sharpe_ratio")
    assert ranked.empty and {"rank", "below_min_trades"} <= set(ranked.columns)
