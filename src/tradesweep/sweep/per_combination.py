"""The general path: any strategy (built-in, plugin, declarative YAML), one full backtest per
combination, spread over worker processes.

Each combination runs exactly what one backtest runs: ``strategy.signals(bars)``,
:func:`~tradesweep.engine.run_backtest` with the strategy's execution defaults laid over the
settings (:func:`combination_settings`), and
:func:`~tradesweep.metrics.metrics_from_result`; the block statistics come from its equity
curve. ``workers=1`` runs in this process, and so does a sweep estimated (from its first
combination) to take under :data:`POOL_MIN_SECONDS`. Otherwise a ``ProcessPoolExecutor``
(forkserver start: no inherited numba threads) receives the bars once per worker, through
its initializer, and then only chunks of parameter dicts sized to take ~0.25 s each.
"""

from __future__ import annotations

import importlib.machinery
import inspect
import multiprocessing
import pickle
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.errors import StrategyError
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.metrics import bar_returns, metrics_from_result
from tradesweep.strategies import Strategy, apply_execution
from tradesweep.strategies.declarative import DeclarativeStrategy
from tradesweep.strategies.declarative.strategy import declarative_class
from tradesweep.strategies.plugins import MODULE_PREFIX, load_plugin
from tradesweep.strategies.registry import instantiate
from tradesweep.sweep.axes import split_row
from tradesweep.sweep.progress import ProgressTracker

TARGET_CHUNK_SECONDS = 0.25
POOL_MIN_SECONDS = 2.0
"""Work below this (estimated from the first combination) stays in this process."""
_WAIT_SECONDS = 0.1  # how often the pool loop looks at the cancel flag
_DEFAULTS = EngineSettings().to_dict()


def combination_settings(
    settings: EngineSettings, strategy: Strategy, axes: Mapping[str, Any] | None = None
) -> EngineSettings:
    """``settings`` with one combination's setting-axis values ``axes`` (explicit, whatever
    their value), then the strategy's execution defaults (declarative stop_loss, size, ...)
    filling the fields left at their defaults: the rule of
    ``services.backtest.effective_settings`` for a spec built from an ``EngineSettings``
    (an explicit field also blocks its exclusive partner; ``size`` only with percent sizing)."""
    if axes:
        settings = settings.replace(**{k: float(v) for k, v in axes.items()})
    given = settings.to_dict()
    explicit = {name for name, value in given.items() if value != _DEFAULTS[name]}
    return apply_execution(settings, strategy, explicit | set(axes or ()))


@dataclass(frozen=True)
class Context:
    """What every combination shares; built once per process."""

    bars: pd.DataFrame
    cls: type[Strategy]
    settings: EngineSettings
    periods_per_year: float | None
    risk_free_rate: float
    block_start: np.ndarray
    columns: tuple[str, ...]
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION
    setting_names: tuple[str, ...] = ()


def evaluate_one(ctx: Context, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """One backtest: ``(metric values in ctx.columns order, NaN for null; block statistics
    (3, n_blocks))``."""
    convention = ctx.indicator_convention
    own, axes = split_row(params, ctx.setting_names)
    strategy = instantiate(ctx.cls, own, convention)
    settings = combination_settings(ctx.settings, strategy, axes)
    signals = strategy.signals(ctx.bars)
    result = run_backtest(ctx.bars, signals, settings, indicator_convention=convention)
    metrics = metrics_from_result(
        result,
        ctx.bars,
        periods_per_year=ctx.periods_per_year,
        risk_free_rate=ctx.risk_free_rate,
    )
    values = np.array([np.nan if metrics[k] is None else metrics[k] for k in ctx.columns], float)
    return values, block_sums(bar_returns(result.equity, settings.cash), ctx.block_start)


def block_sums(returns: np.ndarray, block_start: np.ndarray) -> np.ndarray:
    """``(3, n_blocks)``: per block of bars, the sum of the defined returns, of their squares,
    and their count (undefined returns, after ruin, are left out)."""
    n_blocks = block_start.shape[0] - 1
    out = np.zeros((3, n_blocks))
    for b in range(n_blocks):
        r = returns[block_start[b] : block_start[b + 1]]
        r = r[np.isfinite(r)]
        out[0, b] = np.sum(r)
        out[1, b] = np.sum(r * r)
        out[2, b] = r.shape[0]
    return out


def _evaluate_chunk(ctx: Context, chunk: Sequence[tuple[int, dict[str, Any]]]):
    t0 = time.perf_counter()
    rows = [(i, *evaluate_one(ctx, params)) for i, params in chunk]
    return rows, time.perf_counter() - t0


# --- worker processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class _PluginRef:
    spec: str  # "file.py:ClassName"

    def load(self) -> type[Strategy]:
        return load_plugin(self.spec)[0]


@dataclass(frozen=True)
class _DeclarativeRef:
    document: Any
    source: str

    def load(self) -> type[Strategy]:
        return declarative_class(self.document, source=self.source)


def portable_class(cls: type[Strategy]) -> Any:
    """Something a worker process can turn back into ``cls``: the class itself when it
    pickles, a base class that differs only in its schema (a defaults override: the
    parameters are validated here already), or a recipe to rebuild a plugin or declarative
    class from its file."""
    if cls.__module__.startswith(MODULE_PREFIX):
        return _PluginRef(f"{inspect.getfile(cls)}:{cls.__name__}")
    if issubclass(cls, DeclarativeStrategy) and not _importable(cls):
        return _DeclarativeRef(cls.document, cls.spec.source)
    for candidate in cls.__mro__:
        if not (isinstance(candidate, type) and issubclass(candidate, Strategy)):
            break
        if candidate is not cls and candidate.signals is not cls.signals:
            break
        if _importable(candidate):
            return candidate
    raise StrategyError(
        f"strategy class {cls.__qualname__} cannot be sent to worker processes",
        fix="pass the strategy by name or file path, define it at module level, or use workers=1",
        strategy=getattr(cls, "name", None),
    )


def _importable(cls: type) -> bool:
    """Whether a fresh process can import ``cls`` by name (pickle stores classes by name):
    its top-level package is on the path, not only in this process's ``sys.modules``, and the
    name leads back to this very class."""
    top = cls.__module__.split(".")[0]
    if top == "__main__" or importlib.machinery.PathFinder.find_spec(top) is None:
        return False
    try:
        return pickle.loads(pickle.dumps(cls)) is cls
    except Exception:
        return False


_WORKER_CONTEXT: Context | None = None  # set in each worker process by _init_worker


def _init_worker(ctx: Context, portable: Any) -> None:
    global _WORKER_CONTEXT
    cls = portable if isinstance(portable, type) else portable.load()
    _WORKER_CONTEXT = Context(**{**ctx.__dict__, "cls": cls})


def _worker_chunk(chunk: Sequence[tuple[int, dict[str, Any]]]):
    assert _WORKER_CONTEXT is not None, "worker not initialised"
    return _evaluate_chunk(_WORKER_CONTEXT, chunk)


# --- driver -------------------------------------------------------------------------------


class _Collector:
    def __init__(self, n: int, n_columns: int, n_blocks: int) -> None:
        self.metrics = np.full((n, n_columns), np.nan)
        self.blocks = np.zeros((3, n_blocks, n))

    def add(self, rows) -> int:
        for i, values, blocks in rows:
            self.metrics[i] = values
            self.blocks[:, :, i] = blocks
        return len(rows)


def run_general(
    ctx: Context,
    params: Sequence[dict[str, Any]],
    tracker: ProgressTracker,
    workers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every combination of ``params``: ``(metrics (n, len(ctx.columns)), block statistics
    (3, n_blocks, n))``."""
    out = _Collector(len(params), len(ctx.columns), ctx.block_start.shape[0] - 1)
    todo = list(enumerate(params))
    tracker.check()
    if workers <= 1 or len(todo) <= 1:
        _run_here(ctx, todo, out, tracker)
        return out.metrics, out.blocks
    # the first combination here: errors surface with a plain traceback, and its time says
    # whether worker processes (a second or two to start) are worth it
    rows, seconds = _evaluate_chunk(ctx, todo[:1])
    tracker.advance(out.add(rows))
    if seconds * (len(todo) - 1) < POOL_MIN_SECONDS:
        _run_here(ctx, todo[1:], out, tracker)
    else:
        _run_pool(ctx, todo[1:], out, tracker, workers, per_item=max(seconds, 1e-4))
    return out.metrics, out.blocks


def _run_here(ctx: Context, todo, out: _Collector, tracker: ProgressTracker) -> None:
    last = time.perf_counter()
    pending = 0
    for item in todo:
        tracker.check()
        pending += out.add(_evaluate_chunk(ctx, [item])[0])
        now = time.perf_counter()
        if now - last >= TARGET_CHUNK_SECONDS or item is todo[-1]:
            tracker.advance(pending)
            pending = 0
            last = now


def _run_pool(
    ctx: Context, todo, out: _Collector, tracker: ProgressTracker, workers: int, per_item: float
) -> None:
    portable = portable_class(ctx.cls)
    pool_ctx = Context(**{**ctx.__dict__, "cls": Strategy})  # the class travels apart
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_init_worker,
        initargs=(pool_ctx, portable),
    )
    running: set[Future] = set()
    position = 0
    try:
        while position < len(todo) or running:
            while position < len(todo) and len(running) < 2 * workers:
                size = max(1, min(int(TARGET_CHUNK_SECONDS / per_item), 1000))
                running.add(executor.submit(_worker_chunk, todo[position : position + size]))
                position += size
            done, running = wait(running, timeout=_WAIT_SECONDS, return_when=FIRST_COMPLETED)
            tracker.check()
            for future in done:
                rows, seconds = future.result()
                per_item = max(seconds / len(rows), 1e-5)
                tracker.advance(out.add(rows))
    except BaseException:
        _stop_workers(executor)  # a cancel waits neither for running chunks nor starting workers
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes now (Python 3.14's ``terminate_workers``): ``shutdown``
    then returns at once, and this process soon exits by itself, unlinking the pool's
    semaphores on the way (a compute process killed instead leaves them to the resource
    tracker, which warns about "leaked semaphore objects")."""
    terminate = getattr(executor, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
