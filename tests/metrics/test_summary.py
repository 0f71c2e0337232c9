"""compute_metrics end to end: the hand example, every edge case, JSON safety, the key and
label tables, and metrics_from_result."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine.enums import trade_dt
from tradesweep.errors import TradesweepError
from tradesweep.metrics import (
    KEYS,
    LABELS,
    NULL_REASONS,
    OBJECTIVES,
    compute_metrics,
    metrics_from_result,
    to_json_safe,
)

CASH = 100.0
MON_TO_FRI = pd.bdate_range("2024-01-01", periods=5, tz="UTC")


def _trades(**fields: list[float]) -> np.ndarray:
    n = len(next(iter(fields.values())))
    out = np.zeros(n, dtype=trade_dt)
    for name, values in fields.items():
        out[name] = values
    return out


def _inputs(equity: list[float], index: pd.DatetimeIndex | None = None, **kw: Any) -> dict:
    """compute_metrics arguments for an equity curve; flat position, no trades by default."""
    equity_arr = np.asarray(equity, dtype=float)
    n = equity_arr.size
    return {
        "index": pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
        if index is None
        else index,
        "equity": equity_arr,
        "position": np.zeros(n),
        "trades": np.zeros(0, dtype=trade_dt),
        "close": np.linspace(10.0, 12.0, n),
        "initial_cash": CASH,
    } | kw


def _run(args: dict) -> dict[str, Any]:
    args = dict(args)
    return compute_metrics(
        args.pop("index"),
        args.pop("equity"),
        args.pop("position"),
        args.pop("trades"),
        args.pop("close"),
        **args,
    )


def test_hand_example() -> None:
    # returns [0, .1, -.1, .1, .1] from cash 100 on Mon..Fri: see test_returns.py for the sums
    trades = _trades(
        pnl=[10.0, 8.9], pnl_pct=[10.0, 8.0], entry_idx=[0, 2], exit_idx=[1, 4], fees=[0.5, 0.25]
    )
    m = _run(
        _inputs(
            [100.0, 110.0, 99.0, 108.9, 119.79],
            MON_TO_FRI,
            position=np.array([1.0, 0.0, 2.0, 2.0, 0.0]),
            trades=trades,
            close=np.array([50.0, 51.0, 49.0, 52.0, 55.0]),
        )
    )
    assert m["start"] == "2024-01-01T00:00:00+00:00"
    assert m["end"] == "2024-01-05T00:00:00+00:00"
    assert m["bars"] == 5
    assert m["periods_per_year"] == 252.0  # weekdays -> inferred
    assert m["final_equity"] == 119.79
    assert m["total_return_pct"] == pytest.approx(19.79)
    assert m["buy_and_hold_return_pct"] == pytest.approx(10.0)  # 55 / 50 - 1
    assert m["annualized_return_pct"] == pytest.approx((1.1979 ** (252 / 5) - 1) * 100)
    assert m["annualized_volatility_pct"] == pytest.approx(math.sqrt(0.008 * 252) * 100)
    assert m["sharpe_ratio"] == pytest.approx(0.04 / math.sqrt(0.008) * math.sqrt(252))
    assert m["sortino_ratio"] == pytest.approx(0.04 / math.sqrt(0.002) * math.sqrt(252))
    assert m["max_drawdown_pct"] == pytest.approx(-10.0)  # 99 / 110 - 1
    assert m["calmar_ratio"] == pytest.approx(m["annualized_return_pct"] / 10.0)
    assert m["max_drawdown_duration_days"] == 3.0  # peak Tue 2 Jan, back above on Fri 5 Jan
    assert m["avg_drawdown_pct"] == pytest.approx(-10.0)  # one episode
    assert m["total_trades"] == 2
    assert m["win_rate_pct"] == 100.0
    assert m["profit_factor"] is None  # no losing trade
    assert m["expectancy_pct"] == pytest.approx(9.0)
    assert m["avg_trade_duration_days"] == 1.5  # (1 + 2) / 2
    assert m["trades_per_month"] == pytest.approx(2 / (4 / 30.4375))  # 15.21875
    assert m["exposure_pct"] == 60.0  # 3 of 5 bars
    assert m["total_fees"] == 0.75  # sum of trade fees when not given
    assert m["stop_and_target_same_bar"] == 0


def test_keys_are_exactly_KEYS_in_order() -> None:
    assert tuple(_run(_inputs([100.0, 101.0, 99.0]))) == KEYS


def test_periods_per_year_and_risk_free_rate_can_be_set() -> None:
    args = _inputs([100.0, 110.0, 99.0, 108.9, 119.79], MON_TO_FRI)
    m = _run(args | {"periods_per_year": 365, "risk_free_rate": 0.05})
    rf_bar = 1.05 ** (1 / 365) - 1
    assert m["periods_per_year"] == 365.0
    assert m["sharpe_ratio"] == pytest.approx((0.04 - rf_bar) / math.sqrt(0.008) * math.sqrt(365))


def test_engine_totals_pass_through() -> None:
    m = _run(_inputs([100.0, 99.0]) | {"total_fees": 3.5, "stop_and_target_same_bar": 2})
    assert (m["total_fees"], m["stop_and_target_same_bar"]) == (3.5, 2)


# ---------------------------------------------------------------- edge cases


def _edge_cases() -> dict[str, dict]:
    one_win = _trades(pnl=[5.0], pnl_pct=[5.0], entry_idx=[0], exit_idx=[2], fees=[0.1])
    growth = list(CASH * 1.01 ** np.arange(1, 11))
    return {
        "no_trades": _inputs([100.0, 102.0, 101.0, 103.0]),
        "one_trade": _inputs([100.0, 102.0, 105.0], trades=one_win),
        "zero_variance": _inputs(growth),
        "flat": _inputs([CASH] * 6),
        "one_bar": _inputs([101.0]),
        "one_bar_with_ppy": _inputs([101.0], periods_per_year=252),
        "ruin": _inputs([50.0, 0.0, 0.0, 0.0]),
        "negative_equity": _inputs([50.0, -10.0, -20.0]),
        "cagr_overflow": _inputs([1e6], periods_per_year=1e6),
        "zero_first_close": _inputs([100.0, 101.0], close=np.array([0.0, 1.0])),
        "total_loss_trade": _inputs(
            [100.0, 40.0],
            trades=_trades(pnl=[-60.0], pnl_pct=[-120.0], entry_idx=[0], exit_idx=[1]),
        ),
    }


EDGE_CASES = _edge_cases()


@pytest.mark.parametrize("name", EDGE_CASES)
def test_edge_cases_are_json_without_nan_and_nulls_are_documented(name: str) -> None:
    m = _run(EDGE_CASES[name])
    json.dumps(m, allow_nan=False)
    undocumented = [k for k, v in m.items() if v is None and k not in NULL_REASONS]
    assert not undocumented, f"{name}: null without a documented reason: {undocumented}"


def test_no_trades() -> None:
    m = _run(EDGE_CASES["no_trades"])
    assert m["total_trades"] == 0
    assert m["trades_per_month"] == 0.0
    assert m["total_fees"] == 0.0
    for key in ("win_rate_pct", "profit_factor", "expectancy_pct", "avg_trade_pct",
                "best_trade_pct", "worst_trade_pct", "avg_win", "avg_loss", "largest_win",
                "largest_loss", "avg_trade_duration_days", "avg_trade_duration"):  # fmt: skip
        assert m[key] is None, key


def test_one_trade() -> None:
    m = _run(EDGE_CASES["one_trade"])
    assert m["total_trades"] == 1
    assert m["profit_factor"] is None
    assert m["avg_trade_pct"] == pytest.approx(5.0)
    assert m["avg_trade_duration"] == "2.0 days"
    assert m["total_fees"] == pytest.approx(0.1)


def test_zero_variance() -> None:
    m = _run(EDGE_CASES["zero_variance"])
    assert m["sharpe_ratio"] is None
    assert m["sortino_ratio"] is None
    assert m["annualized_volatility_pct"] == pytest.approx(0.0, abs=1e-9)
    assert m["calmar_ratio"] is None  # never below a peak
    assert m["annualized_return_pct"] == pytest.approx((1.01**365 - 1) * 100)


def test_flat_equity() -> None:
    m = _run(EDGE_CASES["flat"])
    assert m["total_return_pct"] == 0.0
    assert m["annualized_return_pct"] == 0.0
    assert m["annualized_volatility_pct"] == 0.0
    assert m["sharpe_ratio"] is None and m["sortino_ratio"] is None and m["calmar_ratio"] is None
    assert m["max_drawdown_pct"] == 0.0
    assert m["avg_drawdown_pct"] == 0.0
    assert m["max_drawdown_duration_days"] == 0.0
    assert m["exposure_pct"] == 0.0


def test_one_bar() -> None:
    m = _run(EDGE_CASES["one_bar"])
    assert m["start"] == m["end"]
    assert m["bars"] == 1
    assert m["periods_per_year"] is None
    assert m["total_return_pct"] == pytest.approx(1.0)
    for key in ("annualized_return_pct", "annualized_volatility_pct", "sharpe_ratio",
                "sortino_ratio", "calmar_ratio", "trades_per_month"):  # fmt: skip
        assert m[key] is None, key
    assert m["max_drawdown_pct"] == 0.0


def test_one_bar_with_periods_per_year() -> None:
    m = _run(EDGE_CASES["one_bar_with_ppy"])
    assert m["annualized_return_pct"] == pytest.approx((1.01**252 - 1) * 100)
    assert m["annualized_volatility_pct"] is None  # ddof=1 needs two returns


def test_ruin() -> None:
    m = _run(EDGE_CASES["ruin"])
    assert m["annualized_return_pct"] == -100.0
    assert m["max_drawdown_pct"] == -100.0
    assert m["annualized_volatility_pct"] is None
    assert m["sharpe_ratio"] is None and m["sortino_ratio"] is None
    assert m["calmar_ratio"] == pytest.approx(-1.0)


def test_negative_equity() -> None:
    m = _run(EDGE_CASES["negative_equity"])
    assert m["total_return_pct"] == pytest.approx(-120.0)
    assert m["max_drawdown_pct"] == pytest.approx(-120.0)
    assert m["annualized_return_pct"] == -100.0


def test_overflowing_cagr_is_null() -> None:
    assert _run(EDGE_CASES["cagr_overflow"])["annualized_return_pct"] is None


def test_buy_and_hold_of_a_zero_close_is_null() -> None:
    assert _run(EDGE_CASES["zero_first_close"])["buy_and_hold_return_pct"] is None


def test_total_loss_trade_has_no_geometric_mean() -> None:
    m = _run(EDGE_CASES["total_loss_trade"])
    assert m["avg_trade_pct"] is None
    assert m["expectancy_pct"] == -120.0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"equity": np.array([])}, "empty equity"),
        ({"position": np.zeros(2)}, "position has 2 bars but equity has 3"),
        ({"close": np.zeros(4)}, "close has 4 bars"),
        ({"index": MON_TO_FRI}, "index has 5 bars"),
        ({"equity": np.array([1.0, np.nan, 2.0])}, "not finite at bar 1"),
        ({"initial_cash": 0.0}, "initial_cash must be a positive"),
        ({"periods_per_year": 0}, "periods_per_year must be a positive"),
        ({"periods_per_year": float("inf")}, "periods_per_year must be a positive"),
        ({"risk_free_rate": -1.0}, "risk_free_rate"),
    ],
)
def test_bad_input_says_what_is_wrong(change: dict, match: str) -> None:
    with pytest.raises(TradesweepError, match=match):
        _run(_inputs([100.0, 101.0, 102.0]) | change)


# ---------------------------------------------------------------- JSON safety


def test_to_json_safe_replaces_every_non_finite_value() -> None:
    raw = {
        "nan": float("nan"),
        "inf": np.float64(np.inf),
        "neg_inf": -math.inf,
        "neg_zero": -0.0,
        "np_int": np.int64(3),
        "np_bool": np.bool_(True),
        "nested": {"a": [1.0, np.nan, (np.float32(2.5), np.inf)]},
        "array": np.array([1.0, np.nan]),
        "ts": pd.Timestamp("2024-01-01", tz="UTC"),
        "datetime": datetime(2024, 1, 2, tzinfo=UTC),
        "nat": pd.NaT,
        "text": "ok",
        "none": None,
    }
    safe = to_json_safe(raw)
    assert safe == {
        "nan": None,
        "inf": None,
        "neg_inf": None,
        "neg_zero": 0.0,
        "np_int": 3,
        "np_bool": True,
        "nested": {"a": [1.0, None, [2.5, None]]},
        "array": [1.0, None],
        "ts": "2024-01-01T00:00:00+00:00",
        "datetime": "2024-01-02T00:00:00+00:00",
        "nat": None,
        "text": "ok",
        "none": None,
    }
    text = json.dumps(safe, allow_nan=False)
    assert "-0.0" not in text
    assert type(safe["np_int"]) is int and type(safe["np_bool"]) is bool


def test_to_json_safe_rejects_what_it_cannot_represent() -> None:
    with pytest.raises(TypeError, match="object"):
        to_json_safe({"x": object()})


# ---------------------------------------------------------------- keys and labels


def test_labels_cover_keys_and_objectives_and_are_not_keys() -> None:
    assert set(LABELS) == set(KEYS) | set(OBJECTIVES)
    assert not set(LABELS.values()) & set(LABELS)
    assert len(set(LABELS.values())) == len(LABELS)


def test_objectives_are_metric_keys_or_the_score() -> None:
    assert set(OBJECTIVES) - set(KEYS) == {"score"}
    assert OBJECTIVES == (
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "total_return_pct",
        "profit_factor",
        "win_rate_pct",
        "score",
    )


def test_null_reasons_name_real_keys() -> None:
    assert set(NULL_REASONS) <= set(KEYS)
    assert all(reason.strip() for reason in NULL_REASONS.values())


def test_keys_are_snake_case() -> None:
    assert all(key == key.lower() and " " not in key and "[" not in key for key in KEYS)


# ---------------------------------------------------------------- metrics_from_result


@pytest.mark.parametrize(
    "bars_of",
    [
        lambda close, index: pd.DataFrame({"close": close}, index=index),
        lambda close, index: pd.DataFrame({"Close": close}, index=index),
        lambda close, index: close,
    ],
)
def test_metrics_from_result_reads_the_result_by_duck_typing(
    bars_of: Callable[[np.ndarray, pd.DatetimeIndex], Any],
) -> None:
    args = _inputs([100.0, 110.0, 99.0, 108.9, 119.79], MON_TO_FRI)
    result = SimpleNamespace(
        index=args["index"],
        equity=args["equity"],
        position=args["position"],
        trades=args["trades"],
        stop_and_target_same_bar=1,
        total_fees=2.5,
        settings=SimpleNamespace(cash=CASH),
    )
    m = metrics_from_result(result, bars_of(args["close"], args["index"]), risk_free_rate=0.01)
    expected = _run(
        args | {"stop_and_target_same_bar": 1, "total_fees": 2.5, "risk_free_rate": 0.01}
    )
    assert m == expected


def test_metrics_from_result_without_a_close_column() -> None:
    result = SimpleNamespace(index=MON_TO_FRI, equity=np.ones(5), position=np.zeros(5),
                             trades=np.zeros(0, dtype=trade_dt), stop_and_target_same_bar=0,
                             total_fees=0.0, settings=SimpleNamespace(cash=1.0))  # fmt: skip
    with pytest.raises(TradesweepError, match="no close column"):
        metrics_from_result(result, pd.DataFrame({"open": np.ones(5)}, index=MON_TO_FRI))
