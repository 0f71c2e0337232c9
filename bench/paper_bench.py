"""Paper pipeline throughput (candles per second, end to end) and candle-to-order latency on Redis.

Run with ``.venv/bin/python bench/paper_bench.py`` (``--quick`` for a small smoke run, under
30 s). Needs ``redis-server`` on the PATH (``scripts/system-deps.sh``): the bench starts its own
on a free loopback port (no persistence) and stops it at the end. Prints one table; every
number comes from this one run. Strategy: sma_crossover fast=10 slow=30, fees 0.1 %, fill
next_open, long only.

Datasets: GOOGL (bundled daily sample, 2,335 bars) and SYNTH, ``synthetic_bars(n, seed=7,
interval="1h")`` (100,000 bars; 10,000 with ``--quick``) registered into a temporary
DatasetRegistry.

(1) in process: :func:`~tradesweep.paper.pipeline.run_paper` end to end (replay -> strategy
    engine -> paper executor -> portfolio), with no broker and with an ``InProcessBroker``
    (every candle, signal, order, fill and snapshot published). Candles/s = bars / wall time of
    the whole call, dataset load included. One untimed GOOGL run first loads the kernels.
(2) on Redis: the same with a ``RedisBroker`` publishing every message (one ``XADD`` each, a
    round trip per message: a candle and a snapshot on every bar, plus signals and orders).
(3) candle-to-order latency on Redis. The pipeline has no consumer-side roles yet, so the bench
    builds the minimal one itself: a consumer *process* (engine + executor role) reads
    ``candles.SYNTH`` with a consumer group (``broker.read``, blocking, then ``ack``), feeds
    each candle to ``StrategyEngine`` and ``PaperExecutor`` and publishes the candle's orders
    on ``orders``. The producer (this process) publishes the candles at a steady ``--rate``
    (default 1,000 candles/s, far above any live feed), each stamped with
    ``time.monotonic_ns()`` taken just before its ``XADD`` (CLOCK_MONOTONIC is one clock for
    every process on the machine). Measured per candle:
      - ``candle -> order``: from before the candle's ``XADD`` to the return of its order's
        ``XADD`` on ``orders``, for candles that made an order (the last order if several);
      - ``candle -> decision``: for every candle, to the return of the executor's ``execute``
        for candles without an order, or of the order's ``XADD`` for those with one.
    Fills, signals and snapshots are not published in (3): only the candle-to-order path. The
    latency rows' seconds and candles/s are those of the paced producer (about ``--rate``).

Goals (issue 14, this machine): >= 20,000 candles/s in process, >= 3,000 candles/s on Redis,
p99 < 10 ms candle to order on Redis. ``--profile`` prints cProfile's top 10 (cumulative) for
the SYNTH runs without a broker and on Redis.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import pstats
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import redis

from tradesweep.data import DatasetRegistry, synthetic_bars
from tradesweep.paper.bus import ORDERS, Broker, InProcessBroker, RedisBroker, candles_stream
from tradesweep.paper.candles import Candle
from tradesweep.paper.engine import StrategyEngine
from tradesweep.paper.executor import PaperExecutor
from tradesweep.paper.pipeline import run_paper
from tradesweep.paper.sources import ReplaySource
from tradesweep.services.backtest import effective_settings
from tradesweep.specs import BacktestSpec
from tradesweep.strategies import get_strategy

IN_PROCESS_GOAL = 20_000.0
REDIS_GOAL = 3_000.0
P99_GOAL_MS = 10.0


class RedisServer:
    """A throwaway redis-server on a free loopback port (as tests/paper/conftest.py starts)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tradesweep-bench-redis-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        if shutil.which("redis-server") is None:
            sys.exit("redis-server not found: run scripts/system-deps.sh")
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.root),
                "--logfile", str(self.root / "server.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"redis-server did not answer PING on {self.url}")
                time.sleep(0.05)
        finally:
            client.close()

    def flush(self) -> None:
        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            client.flushall()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def spec_for(data: str) -> BacktestSpec:
    return BacktestSpec.from_dict(
        {
            "data": data,
            "strategy": "sma_crossover",
            "params": {"fast": 10, "slow": 30},
            "settings": {"fees": 0.001, "fill": "next_open"},
        }
    )


def timed(fn: Callable[[], Any], profile: bool = False) -> float:
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    fn()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - start
    if profiler is not None:
        print(f"\n-- cProfile, top 10 by cumulative time ({seconds:.2f} s under the profiler)")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(10)
    return seconds


# -- (3) the minimal engine + executor role on the bus --------------------------------------

GROUP = "bench-engine"


def consumer_role(url: str, data: str, n: int, out: Any) -> None:
    """Engine + executor role: read candles with a consumer group, decide, publish orders."""
    spec = spec_for(data)
    strategy = get_strategy(spec.strategy, spec.params)
    settings = effective_settings(spec, strategy)
    engine = StrategyEngine("leg0", strategy)
    executor = PaperExecutor("bench", "leg0", settings)
    broker = RedisBroker(url)
    stream = candles_stream(data)
    broker.ensure_group(stream, GROUP)
    out.put("ready")
    decision: list[int] = []
    to_order: list[int] = []
    seen = 0
    while seen < n:
        entries = broker.read(stream, GROUP, "engine-1", count=100, block_ms=1000)
        for entry in entries:
            sent = int(entry.message["sent_ns"])
            candle = Candle.from_dict(entry.message)
            signal = engine.on_candle(candle)
            if signal is None:
                continue
            done = executor.execute(candle, signal)
            for order in done.orders:
                broker.publish(ORDERS, order.to_dict())
            elapsed = time.monotonic_ns() - sent
            decision.append(elapsed)
            if done.orders:
                to_order.append(elapsed)
        if entries:
            broker.ack(stream, GROUP, [e.id for e in entries])
            seen += len(entries)
    broker.close()
    out.put((decision, to_order))


def latency_run(url: str, data: str, registry: DatasetRegistry, n: int, rate: float) -> Any:
    candles = list(ReplaySource(registry, data))[:n]
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    role = ctx.Process(target=consumer_role, args=(url, data, len(candles), out))
    role.start()
    if out.get(timeout=60) != "ready":
        sys.exit("the consumer role did not start")
    broker = RedisBroker(url)
    stream = candles_stream(data)
    start = time.perf_counter()
    for i, candle in enumerate(candles):
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        broker.publish(stream, {**candle.to_dict(), "sent_ns": time.monotonic_ns()})
    decision, to_order = out.get(timeout=600)
    seconds = time.perf_counter() - start
    role.join(30)
    broker.close()
    return len(candles), seconds, np.asarray(decision) / 1e6, np.asarray(to_order) / 1e6


# -- the table -------------------------------------------------------------------------------


def row(
    name: str,
    candles: int,
    seconds: float,
    goal: str,
    met: bool,
    p50: float | None = None,
    p99: float | None = None,
) -> list[str]:
    def ms(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    return [
        name,
        f"{candles:,}",
        f"{seconds:.2f}",
        f"{candles / seconds:,.0f}",
        ms(p50),
        ms(p99),
        goal,
        "yes" if met else "NO",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 30 s)")
    parser.add_argument("--bars", type=int, default=None, help="SYNTH bars (default 100,000)")
    parser.add_argument("--rate", type=float, default=1_000.0, help="candles/s in (3)")
    parser.add_argument("--latency-candles", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile top 10 of SYNTH runs")
    args = parser.parse_args()
    n = args.bars or (10_000 if args.quick else 100_000)
    n_latency = args.latency_candles or (2_000 if args.quick else 10_000)

    root = Path(tempfile.mkdtemp(prefix="tradesweep-bench-data-"))
    server = RedisServer().start()
    try:
        registry = DatasetRegistry(root / "data")
        registry.register_frame(
            synthetic_bars(n, seed=7, interval="1h"), "SYNTH", synthetic=True, source="bench"
        )
        run_paper(spec_for("GOOGL"), registry)  # loads the compiled kernels
        sizes = {"GOOGL": 2_335, "SYNTH": n}
        rows: list[list[str]] = []

        def throughput(label: str, data: str, make: Callable[[], Broker | None], goal: float):
            broker = make()
            profile = args.profile and data == "SYNTH" and label in ("none", "redis")
            seconds = timed(lambda: run_paper(spec_for(data), registry, broker), profile)
            if broker is not None:
                broker.close()
            server.flush()
            kind = "in-process" if label != "redis" else "Redis"
            name = f"{kind}, {data}, broker={label}"
            rate = sizes[data] / seconds
            rows.append(row(name, sizes[data], seconds, f">= {goal:,.0f}/s", rate >= goal))

        for data in ("GOOGL", "SYNTH"):
            throughput("none", data, lambda: None, IN_PROCESS_GOAL)
            throughput("memory", data, InProcessBroker, IN_PROCESS_GOAL)
        for data in ("GOOGL", "SYNTH"):
            throughput("redis", data, lambda: RedisBroker(server.url), REDIS_GOAL)

        count, seconds, decision, to_order = latency_run(
            server.url, "SYNTH", registry, n_latency, args.rate
        )
        for name, values in (
            (f"Redis latency candle->order ({len(to_order)} orders)", to_order),
            ("Redis latency candle->decision (all)", decision),
        ):
            p50, p99 = (float(np.percentile(values, q)) for q in (50, 99))
            rows.append(
                row(
                    name, count, seconds, f"p99 < {P99_GOAL_MS:.0f} ms", p99 < P99_GOAL_MS, p50, p99
                )
            )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    header = ["scenario", "candles", "seconds", "candles/s", "p50 ms", "p99 ms", "goal", "met?"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(
        f"\npaper pipeline, sma_crossover 10/30, next_open; latency at {args.rate:,.0f} candles/s"
    )
    for i, r in enumerate([header, *rows]):
        print(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
