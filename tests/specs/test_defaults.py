"""The strategy defaults that apply are part of the spec: its id changes when they do, and the
run applies the recorded ones, never the environment's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradesweep.errors import StrategyError
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.services.submit import (
    BacktestRequest,
    SweepRequest,
    backtest_spec,
    parse_request,
    sweep_spec,
)
from tradesweep.specs import BacktestSpec, SpecError, SweepSpec, WalkForwardSpec
from tradesweep.strategies.defaults import DEFAULTS_ENV, DefaultsOverride, load_defaults_override
from tradesweep.sweep import run_sweep

BACKTEST = {"data": "GOOGL", "strategy": "sma_crossover", "settings": {"fees": 0.001}}
SWEEP = {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": "5:15:5"}}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.delenv(DEFAULTS_ENV, raising=False)


def _override(tmp_path: Path, name: str, text: str) -> DefaultsOverride:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return load_defaults_override(path)


def test_two_overrides_give_two_ids_and_two_backtests(tmp_path: Path) -> None:
    fast5 = _override(tmp_path, "a", "sma_crossover:\n  fast: 5\n")
    fast20 = _override(tmp_path, "b", "sma_crossover:\n  fast: {default: 20}\n")
    plain = BacktestSpec.from_dict(BACKTEST)
    one, two = plain.with_defaults(fast5), plain.with_defaults(fast20)
    assert len({plain.spec_id, one.spec_id, two.spec_id}) == 3
    assert one.to_dict()["defaults"] == {"fast": {"default": 5}}
    reports = [run_backtest_spec(spec) for spec in (one, two)]
    assert [r.strategy.params["fast"] for r in reports] == [5, 20]
    assert reports[0].metrics != reports[1].metrics

    again = BacktestSpec.from_dict(BACKTEST).with_defaults(
        _override(tmp_path, "c", "sma_crossover: {fast: 5}\n")
    )
    assert again == one and again.spec_id == one.spec_id
    assert BacktestSpec.from_dict(one.to_dict()) == one
    assert run_backtest_spec(again).metrics == reports[0].metrics


def test_two_overrides_give_two_sweeps(tmp_path: Path) -> None:
    slow30 = _override(tmp_path, "a", "sma_crossover: {slow: 30}\n")
    slow60 = _override(tmp_path, "b", "sma_crossover: {slow: 60}\n")
    one = SweepSpec.from_dict(SWEEP).with_defaults(slow30)
    two = SweepSpec.from_dict(SWEEP).with_defaults(slow60)
    assert one.spec_id != two.spec_id
    rows = [run_sweep(spec, workers=1).results for spec in (one, two)]
    assert set(rows[0]["slow"]) == {30} and set(rows[1]["slow"]) == {60}
    assert one == SweepSpec.from_dict(SWEEP).with_defaults(slow30)
    wf = {**SWEEP, "train_bars": 500, "test_bars": 100}
    walk = [WalkForwardSpec.from_dict(wf).with_defaults(o) for o in (slow30, slow60)]
    assert walk[0].spec_id != walk[1].spec_id
    assert WalkForwardSpec.from_dict(walk[0].to_dict()) == walk[0]


def test_the_run_never_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = BacktestSpec.from_dict(BACKTEST)
    before = run_backtest_spec(plain)
    (tmp_path / "env.yaml").write_text("sma_crossover: {fast: 5, slow: {default: 60}}\n")
    monkeypatch.setenv(DEFAULTS_ENV, str(tmp_path / "env.yaml"))
    after = run_backtest_spec(BacktestSpec.from_dict(plain.to_dict()))
    assert after.strategy.params == before.strategy.params == {"fast": 10, "slow": 30}
    assert after.metrics == before.metrics

    # the edge (here the API's services, given the override serve read) records it
    env = tmp_path / "env.yaml"
    body = {"ticker": "GOOGL", "strategy_type": "SMA"}
    request = parse_request(BacktestRequest, body, tickers=["GOOGL"])
    submitted = backtest_spec(request, defaults=env)
    assert submitted.defaults == {"fast": {"default": 5}, "slow": {"default": 60}}
    assert run_backtest_spec(submitted).strategy.params == {"fast": 5, "slow": 60}
    assert backtest_spec(request).defaults == {}, "the services never read the environment"
    body = {"ticker": "GOOGL", "fast_range": [5, 10], "slow_range": [40, 50]}
    sweeping = parse_request(SweepRequest, body, tickers=["GOOGL"])
    assert sweep_spec(sweeping, defaults=env).defaults == submitted.defaults
    assert sweep_spec(sweeping, defaults=DefaultsOverride()).defaults == {}


def test_recorded_defaults_are_checked(tmp_path: Path) -> None:
    with pytest.raises(StrategyError, match=r"'sma_crossover\.fst'"):
        BacktestSpec.from_dict({**BACKTEST, "defaults": {"fst": 5}})
    with pytest.raises(StrategyError, match="break its rules"):
        BacktestSpec.from_dict({**BACKTEST, "defaults": {"fast": 40}})  # fast >= slow 30
    with pytest.raises(SpecError, match="unknown key 'dflt'"):
        BacktestSpec.from_dict({**BACKTEST, "defaults": {"fast": {"dflt": 5}}})
    with pytest.raises(SpecError, match="only applies to a built-in strategy"):
        BacktestSpec.from_dict({**BACKTEST, "strategy": "x.yaml", "defaults": {"fast": 5}})
    assert BacktestSpec.from_dict({**BACKTEST, "defaults": {}}) == BacktestSpec.from_dict(BACKTEST)
