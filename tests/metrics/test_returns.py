"""Return-based statistics against hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradesweep.metrics.returns import (
    annualized_return_pct,
    annualized_volatility_pct,
    bar_returns,
    per_bar_risk_free,
    sharpe_ratio,
    sortino_ratio,
    total_return_pct,
)

# Initial cash 100; the equity gains 10 %, loses 10 %, gains 10 % twice after a flat first bar.
CASH = 100.0
EQUITY = np.array([100.0, 110.0, 99.0, 108.9, 119.79])
R = [0.0, 0.1, -0.1, 0.1, 0.1]
# mean = 0.2 / 5 = 0.04
# deviations -0.04, 0.06, -0.14, 0.06, 0.06; squares .0016 + .0036 + .0196 + 3 x .0036 = .032
# var (ddof=1) = .032 / 4 = .008; std = sqrt(.008) = 0.08944271909999159
STD = math.sqrt(0.008)


def test_bar_returns_start_from_initial_cash() -> None:
    assert bar_returns(EQUITY, CASH) == pytest.approx(R)
    # first bar measured from the cash: 95 / 100 - 1
    assert bar_returns(np.array([95.0]), 100.0)[0] == pytest.approx(-0.05)


def test_bar_returns_after_ruin_are_undefined() -> None:
    r = bar_returns(np.array([50.0, 0.0, 0.0, -10.0]), 100.0)
    assert r[:2] == pytest.approx([-0.5, -1.0])
    assert np.isnan(r[2:]).all()


def test_total_return() -> None:
    assert total_return_pct(119.79, CASH) == pytest.approx(19.79)


def test_cagr_uses_bars_over_periods_per_year() -> None:
    # 5 bars at 252 a year = 5/252 years: 1.1979 ** (252 / 5) - 1
    assert annualized_return_pct(119.79, CASH, 5, 252) == pytest.approx(
        (1.1979 ** (252 / 5) - 1) * 100
    )
    # a year of bars that doubled: 100 %
    assert annualized_return_pct(200.0, CASH, 252, 252) == pytest.approx(100.0)
    # two years of bars that quadrupled: 100 % a year
    assert annualized_return_pct(400.0, CASH, 24, 12) == pytest.approx(100.0)


def test_cagr_edge_cases() -> None:
    assert annualized_return_pct(0.0, CASH, 10, 252) == -100.0
    assert annualized_return_pct(-5.0, CASH, 10, 252) == -100.0
    assert annualized_return_pct(110.0, CASH, 1, None) is None
    assert annualized_return_pct(200.0, CASH, 1, 1e6) is None  # 2 ** 1e6 overflows


def test_volatility() -> None:
    r = np.array(R)
    assert annualized_volatility_pct(r, 252) == pytest.approx(STD * math.sqrt(252) * 100)
    assert annualized_volatility_pct(r, 252) == pytest.approx(141.98591, rel=1e-6)


def test_volatility_of_a_flat_curve_is_zero_and_short_series_null() -> None:
    assert annualized_volatility_pct(np.zeros(5), 252) == 0.0
    assert annualized_volatility_pct(np.array([0.1]), 252) is None
    assert annualized_volatility_pct(np.array(R), None) is None
    assert annualized_volatility_pct(np.array([0.1, np.nan]), 252) is None


def test_sharpe() -> None:
    # 0.04 / 0.0894427191 = 0.4472135955; x sqrt(252) = 15.8745078664
    assert sharpe_ratio(np.array(R), 252) == pytest.approx(0.4472135955 * 15.8745078664)
    assert sharpe_ratio(np.array(R), 252) == pytest.approx(7.0992957, rel=1e-7)


def test_sharpe_with_risk_free_rate() -> None:
    # rf 5 % a year, 252 bars: rf_bar = 1.05 ** (1 / 252) - 1 = 0.000193630...
    rf_bar = 1.05 ** (1 / 252) - 1
    assert per_bar_risk_free(0.05, 252) == pytest.approx(rf_bar)
    assert rf_bar == pytest.approx(0.00019363, rel=1e-4)
    expected = (0.04 - rf_bar) / STD * math.sqrt(252)
    assert sharpe_ratio(np.array(R), 252, 0.05) == pytest.approx(expected)


def test_sharpe_null_cases() -> None:
    assert sharpe_ratio(np.zeros(10), 252) is None  # flat
    constant_growth = bar_returns(100 * 1.01 ** np.arange(1, 30), 100.0)
    assert np.std(constant_growth, ddof=1) > 0  # rounding noise, not a real dispersion
    assert sharpe_ratio(constant_growth, 252) is None
    assert sharpe_ratio(np.array([0.1]), 252) is None
    assert sharpe_ratio(np.array(R), None) is None


def test_sortino() -> None:
    # downside: min(r, 0) = [0, 0, -0.1, 0, 0]; mean of squares = 0.01 / 5 = 0.002
    # sqrt(0.002) = 0.0447213595; 0.04 / 0.0447213595 = 0.894427191; x sqrt(252)
    assert sortino_ratio(np.array(R), 252) == pytest.approx(0.894427191 * math.sqrt(252))
    assert sortino_ratio(np.array(R), 252) == pytest.approx(14.1985914, rel=1e-7)


def test_sortino_downside_target_stays_zero_with_risk_free_rate() -> None:
    rf_bar = 1.05 ** (1 / 252) - 1
    expected = (0.04 - rf_bar) / math.sqrt(0.002) * math.sqrt(252)
    assert sortino_ratio(np.array(R), 252, 0.05) == pytest.approx(expected)


def test_sortino_null_without_a_losing_bar() -> None:
    assert sortino_ratio(np.array([0.0, 0.1, 0.2]), 252) is None
    assert sortino_ratio(np.zeros(4), 252) is None
    assert sortino_ratio(np.array([-0.1]), 252) is None
