"""Sweep benchmarks: the fused SMA-crossover sweep, and two peers on the same work.

Run with ``.venv/bin/python bench/sweep_bench.py`` (``--quick`` for a small smoke run). Prints
one table; every number comes from this one run. The peers (vectorbt, backtesting.py) are
imported here only, never from ``src/``.

(a) tradesweep ``evaluate``: sma_crossover, long only, fees 0.2 %, fill next_open, every pair
    fast < slow of windows 2..max_window (19,701 for 200) on ``synthetic_bars(n, seed=7,
    interval="1h")``, end to end (validation, indicator cache, kernel, metrics frame), after
    one tiny call that loads the compiled kernels. Peak memory is the growth of the process's
    maximum resident set (``resource.getrusage().ru_maxrss``), so it includes numba's own
    allocations; it is measured before any peer runs.
(b) vectorbt: the first ``--vectorbt-combos`` pairs of (a), ``MA.run`` per side,
    ``ma_crossed_above/below``, ``Portfolio.from_signals`` (fees 0.002, fills at the close),
    total return, Sharpe and max drawdown; next to tradesweep on the same pairs with
    ``fill="close"``, ``close_at_end=False`` (vectorbt's conventions). Ratio per combination.
(c) backtesting.py ``Backtest.optimize`` on GOOGL daily, fast 5..100 step 5 x slow 20..300
    step 10, constraint fast < slow, ``max_tries=None`` (its process pool), commission 0.002,
    against tradesweep ``evaluate`` on the same grid (next_open, long only, whole units).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pandas as pd

from tradesweep.data import load_sample, synthetic_bars
from tradesweep.engine import EngineSettings
from tradesweep.sweep.evaluate import evaluate

TARGET_SECONDS = 10.0
TARGET_RATE = 2e8
TARGET_MEMORY_GB = 1.5
TARGET_VS_VECTORBT = 100.0
TARGET_VS_BACKTESTING = 1000.0
REPEAT = 20

Row = tuple[str, str, str, str]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def pairs(max_window: int) -> pd.DataFrame:
    rows = [(f, s) for f in range(2, max_window + 1) for s in range(f + 1, max_window + 1)]
    return pd.DataFrame(rows, columns=["fast", "slow"])


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def sweep_rows(bars: pd.DataFrame, combos: pd.DataFrame) -> tuple[list[Row], float]:
    settings = EngineSettings(fees=0.002)
    first_s, _ = timed(lambda: evaluate(bars.iloc[:500], "sma_crossover", combos.iloc[:4]))
    rss_before = maxrss_bytes()
    cpu_before = time.process_time()
    seconds, result = timed(lambda: evaluate(bars, "sma_crossover", combos, settings))
    cpu = time.process_time() - cpu_before
    peak_gb = (maxrss_bytes() - rss_before) / 1e9
    work = len(bars) * len(combos)
    rate = work / seconds
    trades = result.metrics["total_trades"].sum()
    what = f"(a) tradesweep fused sweep, {len(combos):,} combos x {len(bars):,} bars"
    notes = (
        f"{numba.get_num_threads()} threads, {os.cpu_count()} cores; CPU time {cpu:.2f} s "
        f"({work / cpu:.3g} bar-combos per CPU-second); {trades:,.0f} trades; first call "
        f"(kernel load) {first_s:.2f} s, not counted"
    )
    return [
        (what, f"{seconds:.2f} s", _target(seconds <= TARGET_SECONDS, f"<= {TARGET_SECONDS:g} s"),
         notes),
        ("(a) throughput", f"{rate:.3g} bar-combos/s",
         _target(rate >= TARGET_RATE, f">= {TARGET_RATE:.0e}"), f"{len(combos) / seconds:,.0f} "
         "combos/s"),
        ("(a) peak memory (ru_maxrss growth)", f"{peak_gb:.3f} GB",
         _target(peak_gb < TARGET_MEMORY_GB, f"< {TARGET_MEMORY_GB:g} GB"),
         f"a bars x combos float64 matrix would be {work * 8 / 1e9:.1f} GB"),
    ], seconds / len(combos)  # fmt: skip


def vectorbt_rows(bars: pd.DataFrame, combos: pd.DataFrame, ours_per_combo: float) -> list[Row]:
    try:
        import vectorbt as vbt
    except ImportError as exc:  # pragma: no cover - a dev extra
        return [("(b) vectorbt", "skipped", "", str(exc))]
    close = bars["close"]
    fast, slow = combos["fast"].tolist(), combos["slow"].tolist()

    def run(close: pd.Series, fast: list[int], slow: list[int]) -> Any:
        fast_ma = vbt.MA.run(close, fast, short_name="fast")
        slow_ma = vbt.MA.run(close, slow, short_name="slow")
        entries = fast_ma.ma_crossed_above(slow_ma)
        exits = fast_ma.ma_crossed_below(slow_ma)
        pf = vbt.Portfolio.from_signals(close, entries, exits, fees=0.002, freq="1h")
        return pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first_s, _ = timed(lambda: run(close.iloc[:500], fast[:3], slow[:3]))
        seconds, (total_return, _, _) = timed(lambda: run(close, fast, slow))
    settings = EngineSettings(fees=0.002, fill="close", close_at_end=False)
    ours_s, ours = timed(lambda: evaluate(bars, "sma_crossover", combos, settings))
    same = np.allclose(ours.metrics["total_return_pct"], total_return.to_numpy() * 100, rtol=1e-6)
    per_vbt = seconds / len(combos)
    ratio = per_vbt / ours_per_combo
    n = f"{len(combos):,} combos x {len(bars):,} bars"
    return [
        (f"(b) vectorbt MA.run + from_signals + stats, {n}", f"{seconds:.2f} s", "",
         f"fills at the close; first call {first_s:.1f} s not counted"),
        (f"(b) tradesweep, same {len(combos):,} pairs, fill=close", f"{ours_s:.2f} s", "",
         f"total return {'equals' if same else 'DIFFERS FROM'} vectorbt's (rtol 1e-6)"),
        ("(b) vectorbt s/combo / tradesweep s/combo (a)", f"{ratio:,.0f}x",
         _target(ratio >= TARGET_VS_VECTORBT, f">= {TARGET_VS_VECTORBT:g}x"),
         f"{per_vbt * 1e3:.2f} ms vs {ours_per_combo * 1e6:.1f} us per combination; same "
         f"{len(combos):,} pairs: {seconds / ours_s:,.0f}x"),
    ]  # fmt: skip


def sma(values: Any, n: int) -> Any:
    return pd.Series(values).rolling(n).mean()


try:  # module level, so that backtesting.py's process pool can pickle it
    from backtesting import Strategy as _BtStrategy
    from backtesting.lib import crossover

    class SmaCross(_BtStrategy):
        fast = 10
        slow = 30

        def init(self) -> None:
            self.fast_ma = self.I(sma, self.data.Close, self.fast)
            self.slow_ma = self.I(sma, self.data.Close, self.slow)

        def next(self) -> None:
            if crossover(self.fast_ma, self.slow_ma):
                self.buy()
            elif crossover(self.slow_ma, self.fast_ma):
                self.position.close()

except ImportError:  # pragma: no cover - a dev extra
    SmaCross = None  # type: ignore[assignment,misc]


def backtesting_rows() -> list[Row]:
    if SmaCross is None:  # pragma: no cover - a dev extra
        return [("(c) backtesting.py", "skipped", "", "backtesting is not installed")]
    from backtesting import Backtest

    googl = load_sample("GOOGL")
    frame = googl.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    frame.index = frame.index.tz_localize(None)
    grid = {"fast": range(5, 101, 5), "slow": range(20, 301, 10)}
    combos = pd.DataFrame(
        [(f, s) for f in grid["fast"] for s in grid["slow"] if f < s], columns=["fast", "slow"]
    )

    def run_bt() -> Any:
        bt = Backtest(frame, SmaCross, cash=10_000_000, commission=0.002, finalize_trades=True)
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return bt.optimize(**grid, constraint=lambda p: p.fast < p.slow, max_tries=None)

    settings = EngineSettings(fees=0.002, fractional=False)
    evaluate(googl, "sma_crossover", combos.iloc[:2], settings)
    ours_s = min(timed(lambda: evaluate(googl, "sma_crossover", combos, settings))[0]
                 for _ in range(REPEAT))  # fmt: skip
    bt_s, _ = timed(run_bt)
    theirs, ours = len(combos) / bt_s, len(combos) / ours_s
    ratio = ours / theirs
    return [
        (f"(c) backtesting.py optimize, GOOGL {len(googl):,} bars, {len(combos)} combos",
         f"{theirs:,.1f} combos/s", "", f"{bt_s:.2f} s, its process pool"),
        ("(c) tradesweep evaluate, same grid", f"{ours:,.0f} combos/s", "",
         f"{ours_s * 1e3:.2f} ms, best of {REPEAT}"),
        ("(c) tradesweep / backtesting.py", f"{ratio:,.0f}x",
         _target(ratio >= TARGET_VS_BACKTESTING, f">= {TARGET_VS_BACKTESTING:g}x"), ""),
    ]  # fmt: skip


def _target(ok: bool, text: str) -> str:
    return f"{text} {'ok' if ok else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000, help="synthetic bars for (a), (b)")
    parser.add_argument("--max-window", type=int, default=200, help="windows 2..max for (a)")
    parser.add_argument("--vectorbt-combos", type=int, default=1_000, help="pairs for (b)")
    parser.add_argument("--skip-peers", action="store_true", help="only (a)")
    parser.add_argument("--quick", action="store_true", help="10,000 bars, windows 2..60")
    args = parser.parse_args()
    if args.quick:
        args.bars, args.max_window = 10_000, 60
        args.vectorbt_combos = min(args.vectorbt_combos, 200)
    bars = synthetic_bars(args.bars, seed=7, interval="1h")
    combos = pairs(args.max_window)
    rows, ours_per_combo = sweep_rows(bars, combos)
    if not args.skip_peers:
        rows += backtesting_rows()  # before vectorbt, whose gigabytes would slow what follows
        rows += vectorbt_rows(bars, combos.iloc[: args.vectorbt_combos], ours_per_combo)
    headers = ("benchmark", "result", "target", "notes")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(3)]
    print("  ".join(h.ljust(w) for h, w in zip(headers[:3], widths, strict=True)) + "  notes")
    print("-" * (sum(widths) + 6 + 5))
    for row in rows:
        cells = "  ".join(str(c).ljust(w) for c, w in zip(row[:3], widths, strict=True))
        print(f"{cells}  {row[3]}")


if __name__ == "__main__":
    main()
