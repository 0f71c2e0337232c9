"""Risk-axis sweep against a strategy-only sweep of the same number of combinations.

Run with ``.venv/bin/python bench/risk_axes_bench.py`` (``--quick`` for a small smoke run).
Prints one table; every number comes from this one run, on ``synthetic_bars(n, seed=7,
interval="1h")``, sma_crossover, long only, fees 0.1 %, fill next_open, through ``evaluate``
(the fused kernel), end to end, after one tiny call that loads the compiled kernels:

(a) strategy only: fast x slow, no stops (the sweep of ``sweep_bench.py``);
(b) strategy only with one fixed stop_loss 3 % and take_profit 6 % in the settings: the same
    kernel work per bar as (c) (stops are checked on every bar in a position);
(c) risk axes: a smaller fast x slow grid times stop_loss x take_profit axes, one value per
    combination laid over the settings in the kernel.

(a), (b) and (c) have the same number of combinations. (c) / (b) is the cost of the axes
themselves; (c) / (a) the cost of simulating stops at all.
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np
import pandas as pd

from tradesweep.data import synthetic_bars
from tradesweep.engine import EngineSettings
from tradesweep.sweep.evaluate import evaluate


def grid(**axes: np.ndarray) -> pd.DataFrame:
    names = list(axes)
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    return pd.DataFrame({n: m.reshape(-1) for n, m in zip(names, mesh, strict=True)})


def run(bars: pd.DataFrame, combos: pd.DataFrame, settings: EngineSettings) -> tuple[float, float]:
    start = time.perf_counter()
    result = evaluate(bars, "sma_crossover", combos, settings)
    seconds = time.perf_counter() - start
    return seconds, float(result.metrics["total_trades"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--bars", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    n = args.bars or (2_000 if args.quick else 20_000)
    side = 10 if args.quick else 20  # stop_loss and take_profit values: side x side
    bars = synthetic_bars(n, seed=7, interval="1h")
    # (a), (b): (2 side) x (10 side) fast x slow pairs; (c): 4 x 5 pairs x side x side
    strategy_only = grid(
        fast=np.arange(5, 5 + 2 * side, dtype=np.int64),
        slow=np.arange(100, 100 + 10 * side, dtype=np.int64),
    )
    risk = grid(
        fast=np.arange(5, 9, dtype=np.int64),
        slow=np.arange(100, 105, dtype=np.int64),
        stop_loss=np.round(np.linspace(0.005, 0.05, side), 4),
        take_profit=np.round(np.linspace(0.01, 0.10, side), 4),
    )
    if len(strategy_only) != len(risk):
        raise SystemExit(f"sizes differ: {len(strategy_only)} vs {len(risk)}")
    base = EngineSettings(fees=0.001)
    stopped = base.replace(stop_loss=0.03, take_profit=0.06)
    evaluate(bars.iloc[:300], "sma_crossover", risk.iloc[:4], base)  # load the kernels
    rows = []
    for what, combos, settings in (
        ("(a) strategy only: fast x slow, no stops", strategy_only, base),
        ("(b) strategy only, fixed stop 3 % / target 6 %", strategy_only, stopped),
        (f"(c) risk axes: 20 pairs x {side} stop_loss x {side} take_profit", risk, base),
    ):
        best = min((run(bars, combos, settings) for _ in range(args.repeat)), key=lambda r: r[0])
        rows.append((what, len(combos), best[0], len(combos) * n / best[0], best[1]))
    print(
        f"risk axes bench: {n:,} hourly bars, {numba.get_num_threads()} threads, "
        f"{os.cpu_count()} cores, best of {args.repeat}"
    )
    header = f"{'sweep':<58} {'combos':>8} {'seconds':>8} {'bar-combos/s':>14} {'trades':>7}"
    print(header)
    print("-" * len(header))
    for what, count, seconds, rate, trades in rows:
        print(f"{what:<58} {count:>8,} {seconds:>8.3f} {rate:>14.3e} {trades:>7.1f}")
    a, b, c = (row[2] for row in rows)
    print(f"(c)/(a) time: {c / a:.2f}x   (c)/(b) time: {c / b:.2f}x")


if __name__ == "__main__":
    main()
