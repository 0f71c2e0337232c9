"""Backtest benchmarks: the engine kernel, the CLI end to end, and two peers side by side.

Run with ``make bench`` (or ``.venv/bin/python bench/backtest_bench.py [--bars N]``). Prints one
table. The peers (vectorbt, backtesting.py) are imported here only, never from ``src/``.

(a) one backtest of sma_crossover(10, 30) signals over 1,000,000 synthetic 1-minute bars:
    ``run_backtest`` and the bare ``simulate_nb`` kernel, best of 5 after compiling;
(b) ``tradesweep backtest --data GOOGL --strategy sma_crossover -p fast=10 -p slow=30`` as a
    subprocess with a warm numba cache, best of 3 (wall time: interpreter start, imports, run);
(c) vectorbt ``Portfolio.from_signals`` on the same 1e6-bar signals (long only, close fills:
    our ``fill="close"``), best of 3 after its first call; backtesting.py's SMA crossover on
    GOOGL (one backtest), best of 3, next to our service on the same data.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.data import load_sample, synthetic_bars
from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.engine.backtest import kernel_params
from tradesweep.engine.inputs import engine_inputs
from tradesweep.engine.nb import simulate_nb
from tradesweep.services import BacktestSpec, run_backtest_spec
from tradesweep.strategies import get_strategy

ROOT = Path(__file__).resolve().parents[1]
TARGET_KERNEL_S = 0.5
TARGET_CLI_S = 2.0
CLI_ARGS = ["backtest", "--data", "GOOGL", "--strategy", "sma_crossover", "-p", "fast=10"]
CLI_ARGS += ["-p", "slow=30"]


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def kernel_rows(n_bars: int) -> tuple[list[tuple[str, str, str, str]], Any]:
    bars = synthetic_bars(n_bars, seed=7, interval="1min")
    signals = get_strategy("sma_crossover", {"fast": 10, "slow": 30}).signals(bars)
    settings = EngineSettings(fill="close", close_at_end=False)  # as vectorbt
    compile_s, result = timed(lambda: run_backtest(bars, signals, settings))
    wrapper_s = best_of(lambda: run_backtest(bars, signals, settings), 5)
    x = engine_inputs(bars, signals)
    atr = np.full(len(bars), np.nan)
    params = kernel_params(settings)
    args = (x.open, x.high, x.low, x.close, x.long_entry, x.long_exit)
    args += (x.short_entry, x.short_exit, atr, params)
    kernel_s = best_of(lambda: simulate_nb(*args), 5)
    trades = len(result.trades)
    n = f"{n_bars:,} bars"
    rows = [
        (f"(a) simulate_nb kernel, {n}", _s(kernel_s), _target(kernel_s, TARGET_KERNEL_S), ""),
        (
            f"(a) run_backtest (checks + kernel), {n}",
            _s(wrapper_s),
            _target(wrapper_s, TARGET_KERNEL_S),
            f"{trades:,} trades; first call {compile_s:.2f} s (cache load/compile)",
        ),
    ]
    return rows, (bars, signals, result)


def cli_rows() -> list[tuple[str, str, str, str]]:
    exe = shutil.which("tradesweep", path=str(Path(sys.executable).parent)) or "tradesweep"
    cmd = [exe, *CLI_ARGS]

    def run() -> None:
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)

    run()  # warm the numba cache and the OS file cache
    wall = best_of(run, 3)
    imports = [sys.executable, "-c", "import tradesweep.cli.main"]
    import_s = best_of(lambda: subprocess.run(imports, check=True, capture_output=True), 3)
    bare = best_of(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 3)
    note = f"of which python start {bare:.2f} s, import tradesweep.cli.main {import_s:.2f} s"
    return [
        ("(b) `tradesweep backtest` GOOGL subprocess", _s(wall), _target(wall, TARGET_CLI_S), note)
    ]


def vectorbt_rows(bars: pd.DataFrame, signals: Any, ours: Any) -> list[tuple[str, str, str, str]]:
    try:
        import vectorbt as vbt
    except ImportError as exc:  # pragma: no cover - a dev extra
        return [("(c) vectorbt from_signals", "skipped", "", str(exc))]
    close = bars["close"]
    entries = pd.Series(signals.long_entry, index=bars.index)
    exits = pd.Series(signals.long_exit, index=bars.index)

    def run() -> Any:
        return vbt.Portfolio.from_signals(close, entries, exits, init_cash=10_000.0, freq="1min")

    first_s, pf = timed(run)
    best = best_of(run, 3)
    value = float(pf.final_value())
    same = np.isclose(value, ours.final_equity, rtol=1e-6)
    note = (
        f"first call {first_s:.2f} s; final value {value:,.2f} vs ours "
        f"{ours.final_equity:,.2f} ({'equal' if same else 'DIFFERS'})"
    )
    return [(f"(c) vectorbt Portfolio.from_signals, {len(bars):,} bars", _s(best), "", note)]


def backtesting_rows() -> list[tuple[str, str, str, str]]:
    try:
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover
    except ImportError as exc:  # pragma: no cover - a dev extra
        return [("(c) backtesting.py", "skipped", "", str(exc))]

    googl = load_sample("GOOGL")
    frame = googl.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    frame.index = frame.index.tz_localize(None)

    def sma(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, 10)
            self.slow = self.I(sma, self.data.Close, 30)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    def run() -> Any:
        bt = Backtest(frame, SmaCross, cash=10_000_000, finalize_trades=True)
        with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
            return bt.run()

    best = best_of(run, 3)
    spec = BacktestSpec("GOOGL", "sma_crossover", {"fast": 10, "slow": 30})
    run_backtest_spec(spec)
    ours = best_of(lambda: run_backtest_spec(spec), 3)
    n = f"GOOGL {len(googl):,} bars"
    return [
        (f"(c) backtesting.py Backtest.run, {n}", _s(best), "", "SMA(10/30) cross, long only"),
        (f"(c) tradesweep run_backtest_spec, {n}", _s(ours), "", "load + signals + run + metrics"),
    ]


def _s(seconds: float) -> str:
    return f"{seconds:.4f} s" if seconds < 0.1 else f"{seconds:.3f} s"


def _target(seconds: float, target: float) -> str:
    return f"< {target:g} s {'ok' if seconds < target else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars for (a) and (c)")
    args = parser.parse_args()
    rows, (bars, signals, result) = kernel_rows(args.bars)
    rows += cli_rows()
    rows += vectorbt_rows(bars, signals, result)
    rows += backtesting_rows()
    headers = ("benchmark", "best", "target", "notes")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(3)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers[:3], widths, strict=True))
    print(f"{line}  {headers[3]}")
    print("-" * (sum(widths) + 6 + len(headers[3])))
    for row in rows:
        cells = "  ".join(str(c).ljust(w) for c, w in zip(row[:3], widths, strict=True))
        print(f"{cells}  {row[3]}")


if __name__ == "__main__":
    main()
