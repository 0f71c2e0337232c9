"""Walk-forward analysis: optimise on a training window, trade the winner on the window after
it, move on, and judge the strategy by the stitched out-of-sample equity.

Conventions (``docs/sweeps.md``, "Walk-forward"):

* Windows. Test window k covers bars ``[train_bars + k * step_bars, ... + test_bars)``; only
  full test windows are used (bars after the last one are reported as ``unused_bars``). A
  rolling training window is the ``train_bars`` bars just before its test window; an anchored
  one starts at bar 0 and grows. ``step_bars`` defaults to ``test_bars`` (test windows tile)
  and may not be smaller (overlapping test windows cannot be stitched).
* Optimisation. The training window is swept exactly like a sweep over those bars alone, with
  the full data's bars-per-year so every window annualises alike; the winner is its rank 1.
* Trading, no lookahead. The winner's signals are computed on all bars from the first bar up
  to the end of the test window (warm-up comes from the past; a causal strategy's signals are
  then exactly those of the full series), and only the test window's slice is simulated,
  starting flat with ``settings.cash``: positions and signals of the training window are not
  carried in, ATR stops read the ATR of the whole history. With ``close_at_end`` (the default)
  each window's last position is closed on its last bar.
* Stitching. Window returns are chained: each window's equity, positions and trades are scaled
  by the capital the previous windows left, so the stitched curve is one account compounding
  through the test windows. A window without a ranked winner stays in cash.
* Efficiency. ``annualized_return_pct`` of the stitched out-of-sample curve divided by the mean
  in-sample ``annualized_return_pct`` of the windows' winners (pooled, not a mean of per-window
  ratios, which explode when one window's in-sample return is near 0); null when that mean is
  not positive.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.data import DatasetRegistry, load
from tradesweep.data.window import window_bars
from tradesweep.engine import BacktestResult, run_backtest, trade_dt
from tradesweep.indicators.api import atr_values
from tradesweep.metrics import (
    compute_metrics,
    infer_periods_per_year,
    metrics_from_result,
    to_json_safe,
)
from tradesweep.specs import SweepSpecError, WalkForwardSpec
from tradesweep.strategies import Signals
from tradesweep.strategies.registry import PluginPaths
from tradesweep.sweep.progress import Cancel, ProgressCallback, ProgressInfo
from tradesweep.sweep.runner import SweepPlan, nothing_ranked, plan_sweep, sweep_bars

_SCALED_TRADE_FIELDS = ("units", "pnl", "fees")


@dataclass(frozen=True)
class Window:
    """Bar positions (end exclusive) of one training and test window."""

    number: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def check_fits(spec: WalkForwardSpec, n_bars: int) -> None:
    """Refuse windows too long for one window over ``n_bars`` (the data's length): checked at
    submission, where the length is known, and again before the first sweep."""
    if spec.train_bars + spec.test_bars > n_bars:
        raise SweepSpecError(
            f"{spec.sweep.data} has {n_bars:,} bars, too few for one window of "
            f"{spec.train_bars:,} training and {spec.test_bars:,} test bars",
            fix=f"keep train_bars + test_bars <= {n_bars:,} (smaller windows or longer data)",
            field="train_bars",
            max_bars=n_bars,
        )


WARMUP_LOOKUP_LIMIT = 10_000
"""Valid combinations :func:`untradable_windows` reads the warm-up of; above it, it says
nothing (the finished job still warns)."""


def untradable_windows(plan: SweepPlan, spec: WalkForwardSpec) -> str | None:
    """Why a training window of ``spec.train_bars`` bars cannot rank a combination, known
    before any data: a trade opens on a bar after the strategy's warm-up, so a window leaves at
    most ``train_bars - warm-up`` trades to the combination with the shortest warm-up; below
    ``min_trades`` nothing can be ranked (every rolling window; the first anchored one, later
    ones grow). None when some combination may reach it (or the grid has more than
    :data:`WARMUP_LOOKUP_LIMIT` valid combinations). ``plan`` is ``spec.sweep``'s."""
    space, min_trades, train_bars = plan.space, plan.spec.min_trades, spec.train_bars
    if plan.spec.search != "grid" and space.grid_size > space.max_combinations:
        return None
    valid = space.valid_indices()
    if valid.shape[0] == 0 or valid.shape[0] > WARMUP_LOOKUP_LIMIT:
        return None
    warmup = min(
        plan.strategy(params).warmup_period() for params in space.combinations(valid).to_dicts()
    )
    room = train_bars - warmup
    if room >= max(min_trades, 1):
        return None
    if room <= 0:
        why = f"no signal can fire in {train_bars:,} bars"
    else:
        why = f"at most {room:,} trades fit, fewer than min_trades={min_trades}"
    which = (
        "the first training window cannot rank a combination, so its test window would stay "
        "in cash (later anchored ones grow)"
        if spec.anchored
        else "no training window can rank a combination, so every test window would stay in cash"
    )
    return (
        f"{which}: the shortest warm-up of {plan.spec.strategy} here is {warmup:,} bars and {why}; "
        f"make train_bars at least {warmup + max(min_trades, 1):,} or lower min_trades"
    )


def make_windows(
    n_bars: int, train_bars: int, test_bars: int, step_bars: int, anchored: bool
) -> list[Window]:
    """Every window whose test part fits in ``n_bars`` (see the module docstring)."""
    out: list[Window] = []
    test_start = train_bars
    while test_start + test_bars <= n_bars:
        train_start = 0 if anchored else test_start - train_bars
        out.append(
            Window(len(out) + 1, train_start, test_start, test_start, test_start + test_bars)
        )
        test_start += step_bars
    return out


@dataclass(frozen=True, eq=False)
class WindowResult:
    """One window: its bars, the winner's parameters (None: nothing ranked, stayed in cash), the
    winner's in-sample metrics (with ``score``) and its out-of-sample metrics."""

    window: Window
    index: pd.DatetimeIndex  # the test window's timestamps
    train_index: pd.DatetimeIndex
    params: dict[str, int | float] | None
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any]
    evaluated: int
    result: BacktestResult | None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        w = self.window
        return to_json_safe(
            {
                "window": w.number,
                "train": _span(self.train_index, w.train_end - w.train_start),
                "test": _span(self.index, w.test_end - w.test_start),
                "params": self.params,
                "evaluated": self.evaluated,
                "in_sample": self.in_sample,
                "out_of_sample": self.out_of_sample,
                "note": self.note,
            }
        )


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """Per-window results, the stitched out-of-sample curve and its metrics, and the
    walk-forward efficiency (None with ``efficiency_reason`` when undefined)."""

    spec: WalkForwardSpec
    windows: tuple[WindowResult, ...]
    equity: pd.Series
    position: pd.Series
    trades: np.ndarray
    metrics: dict[str, Any]
    efficiency: float | None
    in_sample_annualized_return_pct: float | None
    efficiency_reason: str | None
    unused_bars: int
    elapsed_seconds: float
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a reader of the answer must know: test windows that stayed in cash because
        their training window ranked no combination, the first one's reason and the fix."""
        idle = [w for w in self.windows if w.params is None]
        if not idle:
            return ()
        first = f"window {idle[0].window.number}: {idle[0].note}"
        if len(idle) == len(self.windows):
            return (f"every one of the {len(idle)} test windows traded nothing; {first}",)
        return (f"{len(idle)} of {len(self.windows)} test windows traded nothing; {first}",)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe: spec, windows, overall out-of-sample metrics, efficiency and warnings."""
        return to_json_safe(
            {
                "spec_id": self.spec.spec_id,
                "spec": self.spec.to_dict(),
                "windows": [w.to_json() for w in self.windows],
                "out_of_sample": self.metrics,
                "efficiency": {
                    "value": self.efficiency,
                    "oos_annualized_return_pct": self.metrics.get("annualized_return_pct"),
                    "is_annualized_return_pct": self.in_sample_annualized_return_pct,
                    "reason": self.efficiency_reason,
                },
                "unused_bars": self.unused_bars,
                "elapsed_seconds": self.elapsed_seconds,
                "warnings": list(self.warnings),
            }
        )


def run_walkforward(
    spec: WalkForwardSpec,
    *,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
    registry: DatasetRegistry | None = None,
    plugins: PluginPaths = None,
) -> WalkForwardResult:
    """Walk ``spec`` forward over its data (module docstring). Inputs are validated (ranges,
    strategy, window sizes against the data) before the first sweep; ``progress`` counts
    combinations over all windows; ``cancel`` stops with ``SweepCancelled``. ``registry``,
    ``plugins`` as for :func:`~tradesweep.sweep.runner.run_sweep`."""
    started = time.perf_counter()
    plan = plan_sweep(spec.sweep, plugins=plugins)
    sweep = spec.sweep
    bars = window_bars(
        load(sweep.data, registry=registry), sweep.data, sweep.timeframe, sweep.start, sweep.end
    )
    check_fits(spec, len(bars))
    windows = make_windows(
        len(bars), spec.train_bars, spec.test_bars, int(spec.step_bars or 0), spec.anchored
    )
    ppy = spec.sweep.periods_per_year or (
        infer_periods_per_year(bars.index) if len(bars) >= 2 else None
    )
    per_window = _combinations_per_window(plan)
    results: list[WindowResult] = []
    for window in windows:
        done = len(results) * per_window
        tick = _window_progress(progress, done, len(windows) * per_window, started)
        results.append(_run_window(plan, bars, window, ppy, tick, cancel, workers))
    equity, position, trades = _stitch(results, plan.settings.cash)
    last = windows[-1]
    metrics = compute_metrics(
        equity.index,
        equity.to_numpy(),
        position.to_numpy(),
        trades,
        bars["close"].to_numpy()[np.concatenate([_test_slice(w) for w in windows])],
        initial_cash=plan.settings.cash,
        periods_per_year=ppy,
        risk_free_rate=spec.sweep.risk_free_rate,
        stop_and_target_same_bar=sum(
            r.result.stop_and_target_same_bar for r in results if r.result is not None
        ),
        total_fees=float(np.sum(trades["fees"])) if trades.shape[0] else 0.0,
    )
    efficiency, is_return, reason = _efficiency(results, metrics)
    return WalkForwardResult(
        spec=spec,
        windows=tuple(results),
        equity=equity,
        position=position,
        trades=trades,
        metrics=metrics,
        efficiency=efficiency,
        in_sample_annualized_return_pct=is_return,
        efficiency_reason=reason,
        unused_bars=len(bars) - last.test_end,
        elapsed_seconds=time.perf_counter() - started,
    )


def _run_window(
    plan: SweepPlan,
    bars: pd.DataFrame,
    window: Window,
    ppy: float | None,
    progress: ProgressCallback | None,
    cancel: Cancel | None,
    workers: int | None,
) -> WindowResult:
    train = bars.iloc[window.train_start : window.train_end]
    test = bars.iloc[window.test_start : window.test_end]
    swept = sweep_bars(
        plan,
        train,
        periods_per_year=ppy,
        progress=progress,
        cancel=cancel,
        workers=workers,
        diagnose=False,
    )
    params = swept.winner
    if params is None:
        why = nothing_ranked(
            plan.spec,
            swept.results,
            more_bars=f"lengthen train_bars (now {len(train):,})",
            where=" in the training window",
        )
        return WindowResult(
            window,
            test.index,
            train.index,
            None,
            {},
            {},
            swept.evaluated,
            None,
            note=f"{why or 'no combination was ranked in the training window'}; stayed in cash",
        )
    best = swept.ranked.iloc[0]
    in_sample = {key: _plain(best[key]) for key in (*swept.metric_columns, "score")}
    result = backtest_test_window(plan, bars, window, params)
    out_of_sample = metrics_from_result(
        result, test, periods_per_year=ppy, risk_free_rate=plan.spec.risk_free_rate
    )
    return WindowResult(
        window, test.index, train.index, params, in_sample, out_of_sample, swept.evaluated, result
    )


def backtest_test_window(
    plan: SweepPlan, bars: pd.DataFrame, window: Window, params: Mapping[str, Any]
) -> BacktestResult:
    """The winner traded on the test window: signals from all bars up to the window's end,
    simulated on the window's bars only, starting flat (module docstring)."""
    history = bars.iloc[: window.test_end]
    strategy, settings = plan.backtest_settings(dict(params))
    signals = strategy.signals(history)
    part = slice(window.test_start, window.test_end)
    sliced = Signals(*(np.asarray(s)[part] for s in signals))
    atr = None
    if settings.uses_atr:
        atr = atr_values(
            history["high"].to_numpy(dtype=np.float64),
            history["low"].to_numpy(dtype=np.float64),
            history["close"].to_numpy(dtype=np.float64),
            settings.atr_period,
            plan.spec.indicator_convention,
        )[part]
    return run_backtest(bars.iloc[part], sliced, settings, atr=atr)


def _stitch(results: list[WindowResult], cash: float) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Chain the windows' returns into one account (module docstring)."""
    equity, position, trades = [], [], []
    capital = 1.0  # equity so far / starting cash
    offset = 0
    for r in results:
        n = len(r.index)
        if r.result is None:
            equity.append(np.full(n, cash * capital))
            position.append(np.zeros(n))
        else:
            equity.append(r.result.equity * capital)
            position.append(r.result.position * capital)
            t = r.result.trades.copy()
            for name in _SCALED_TRADE_FIELDS:
                t[name] = t[name] * capital
            t["entry_idx"] += offset
            t["exit_idx"] += offset
            trades.append(t)
            capital = float(r.result.equity[-1]) / cash * capital
        offset += n
    index = pd.DatetimeIndex(
        np.concatenate([r.index.to_numpy() for r in results]), name="timestamp"
    )
    index = index.tz_localize("UTC") if index.tz is None else index
    all_trades = np.concatenate(trades) if trades else np.empty(0, dtype=trade_dt)
    return (
        pd.Series(np.concatenate(equity), index=index, name="equity"),
        pd.Series(np.concatenate(position), index=index, name="position"),
        all_trades,
    )


def _efficiency(
    results: list[WindowResult], oos: Mapping[str, Any]
) -> tuple[float | None, float | None, str | None]:
    in_sample: list[float] = [
        float(r.in_sample["annualized_return_pct"])
        for r in results
        if r.params is not None and r.in_sample.get("annualized_return_pct") is not None
    ]
    if not in_sample:
        return None, None, "no window had a ranked winner with an annualised return"
    mean_is = float(np.mean(in_sample))
    oos_return = oos.get("annualized_return_pct")
    if oos_return is None:
        return None, mean_is, "the out-of-sample annualised return is undefined"
    if not mean_is > 0:
        return None, mean_is, "the winners' mean in-sample annualised return is not positive"
    return float(oos_return) / mean_is, mean_is, None


def _combinations_per_window(plan: SweepPlan) -> int:
    spec, space = plan.spec, plan.space
    if spec.search == "grid":
        return space.valid_count
    trials = int(spec.trials or 0)
    if space.grid_size <= space.max_combinations:
        return min(trials, space.valid_count)
    return trials


def _window_progress(
    progress: ProgressCallback | None, offset: int, total: int, started: float
) -> ProgressCallback | None:
    """Progress of one window's sweep as progress over all windows' combinations."""
    if progress is None:
        return None

    def shifted(info: ProgressInfo) -> None:
        done = min(offset + info.done, total)
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else None
        progress(ProgressInfo(done, total, elapsed, rate, eta))

    return shifted


def _test_slice(w: Window) -> np.ndarray:
    return np.arange(w.test_start, w.test_end)


def _span(index: pd.DatetimeIndex, n: int) -> dict[str, Any]:
    return {"start": index[0].isoformat(), "end": index[-1].isoformat(), "bars": n}


def _plain(x: Any) -> Any:
    if x is None or x is pd.NA:
        return None
    item = getattr(x, "item", None)
    return item() if callable(item) else x
