"""The backtest use-case: spec ids, strict specs, execution defaults, warm-up, the report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tradesweep.data import DatasetRegistry, synthetic_bars
from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.errors import DatasetNotFound, ParameterError, SettingsError, StrategyError
from tradesweep.metrics import KEYS, metrics_from_result
from tradesweep.services import bars_needed, run_backtest_spec
from tradesweep.specs import BacktestSpec, InsufficientBars, SpecError
from tradesweep.strategies import get_strategy

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = str(ROOT / "examples" / "strategies" / "golden_cross.yaml")
PLUGINS = str(ROOT / "examples" / "plugins")
GOLDEN_EXECUTION = {
    "stop_loss": 0.08,
    "take_profit": 0.5,
    "trailing_stop": 0.12,
    "size": 1.0,
    "max_drawdown": 0.3,
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.delenv("TRADESWEEP_STRATEGY_PLUGINS", raising=False)
    monkeypatch.delenv("TRADESWEEP_STRATEGY_DEFAULTS", raising=False)


@pytest.fixture
def make_spec() -> Callable[..., BacktestSpec]:
    def make(**overrides: object) -> BacktestSpec:
        data: dict[str, object] = {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "params": {"fast": 10, "slow": 30},
            "settings": {"fees": 0.001},
        }
        data.update(overrides)
        return BacktestSpec.from_dict(data)

    return make


@pytest.fixture
def head_csv(tmp_path: Path, googl: pd.DataFrame) -> Callable[[int], str]:
    """The first n GOOGL bars as a CSV file."""

    def write(n: int) -> str:
        path = tmp_path / f"googl_head_{n}.csv"
        googl.head(n).to_csv(path)
        return str(path)

    return write


# --- spec ids ---------------------------------------------------------------------------


def test_spec_id_is_pinned_for_a_known_spec(make_spec: Callable[..., BacktestSpec]) -> None:
    # Run ids and caches are keyed by this: changing the canonical form must be deliberate.
    spec = make_spec()
    settings = (
        '"settings":{"atr_period":14,"cash":10000.0,"close_at_end":true,'
        '"direction":"long_only","fees":0.001,"fill":"next_open","fixed_fee":0.0,'
        '"fractional":true,"max_drawdown":null,"size":1.0,"size_type":"percent",'
        '"slippage":0.0,"stop_loss":null,"stop_loss_atr":null,"take_profit":null,'
        '"take_profit_atr":null,"trailing_stop":null,"trailing_stop_atr":null}'
    )
    expected = (
        '{"data":"GOOGL","explicit_settings":["fees"],"params":{"fast":10,"slow":30},'
        '"periods_per_year":null,"plugins":[],"risk_free_rate":0.0,'
        f'{settings},"strategy":"sma_crossover"}}'
    )
    assert spec.canonical_json() == expected
    assert spec.spec_id == hashlib.sha256(expected.encode()).hexdigest()[:16]
    assert spec.spec_id == "7ed304ddd089e8e6"


def test_spec_id_ignores_key_order_and_how_the_spec_was_built(
    make_spec: Callable[..., BacktestSpec],
) -> None:
    a = make_spec(params={"slow": 30, "fast": 10})
    b = BacktestSpec(
        data="GOOGL",
        strategy="sma_crossover",
        params={"fast": 10, "slow": 30},
        settings=EngineSettings(fees=0.001),
    )
    assert a == b
    assert a.spec_id == b.spec_id == make_spec().spec_id
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    "change",
    [
        {"params": {"fast": 11, "slow": 30}},
        {"params": {"fast": 10}},
        {"settings": {"fees": 0.002}},
        {"settings": {"fees": 0.001, "cash": 10_000.0}},  # an explicit default is a change
        {"data": "EURUSD"},
        {"strategy": "ema_crossover"},
        {"periods_per_year": 252},
        {"risk_free_rate": 0.02},
        {"plugins": [PLUGINS]},
    ],
)
def test_spec_id_changes_with_any_field(
    make_spec: Callable[..., BacktestSpec], change: dict[str, object]
) -> None:
    assert make_spec(**change).spec_id != make_spec().spec_id


def test_to_dict_round_trips(make_spec: Callable[..., BacktestSpec]) -> None:
    spec = make_spec(settings={"stop_loss": None, "size": 1.0}, plugins=PLUGINS)
    again = BacktestSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.spec_id == spec.spec_id
    assert again.explicit_settings == {"stop_loss", "size"}


def test_spec_is_frozen(make_spec: Callable[..., BacktestSpec]) -> None:
    spec = make_spec()
    with pytest.raises(AttributeError):
        spec.data = "EURUSD"  # type: ignore[misc]


# --- strict specs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "suggestion"),
    [("strategi", "strategy"), ("param", "params"), ("setings", "settings")],
)
def test_from_dict_refuses_unknown_fields_with_did_you_mean(
    make_spec: Callable[..., BacktestSpec], field: str, suggestion: str
) -> None:
    with pytest.raises(SpecError) as err:
        make_spec(**{field: 1})
    text = str(err.value)
    assert f"unknown backtest spec field '{field}'" in text
    assert f"did you mean '{suggestion}'?" in text
    assert err.value.details["field"] == field


def test_from_dict_refuses_unknown_engine_settings(make_spec: Callable[..., BacktestSpec]) -> None:
    with pytest.raises(SettingsError, match="did you mean 'stop_loss'"):
        make_spec(settings={"stoploss": 0.05})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"strategy": "sma_crossover"}, "'data' is missing"),
        ({"data": "", "strategy": "sma_crossover"}, "non-empty string"),
        ({"data": "GOOGL", "strategy": "sma_crossover", "params": [1, 2]}, "params"),
        ({"data": "GOOGL", "strategy": "sma_crossover", "settings": 3}, "settings"),
    ],
)
def test_from_dict_refuses_malformed_specs(data: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        BacktestSpec.from_dict(data)


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"settings": {"fees": 0.5}}, "fees"),
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"risk_free_rate": -1.5}, "risk_free_rate"),
    ],
)
def test_out_of_range_settings_are_refused_at_the_boundary(
    make_spec: Callable[..., BacktestSpec], change: dict[str, object], setting: str
) -> None:
    with pytest.raises(SettingsError) as err:
        make_spec(**change)
    assert err.value.details["setting"] == setting


# --- running --------------------------------------------------------------------------


def test_report_metrics_equal_the_engine_and_metrics_run_directly(
    make_spec: Callable[..., BacktestSpec], googl: pd.DataFrame
) -> None:
    report = run_backtest_spec(make_spec(risk_free_rate=0.02))
    strategy = get_strategy("sma_crossover", {"fast": 10, "slow": 30})
    result = run_backtest(googl, strategy.signals(googl), EngineSettings(fees=0.001))
    assert report.metrics == metrics_from_result(result, googl, risk_free_rate=0.02)
    assert list(report.metrics) == list(KEYS)
    assert report.metrics["total_trades"] == len(report.trades_frame()) > 0


def test_to_json_is_strict_json_with_trade_records_and_config(
    make_spec: Callable[..., BacktestSpec],
) -> None:
    spec = make_spec(settings={"fees": 0.001, "direction": "long_short", "stop_loss": 0.03})
    report = run_backtest_spec(spec)
    out = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert set(out) == {"metrics", "trades", "config"}
    trade = out["trades"][0]
    assert pd.Timestamp(trade["entry_time"]).tzinfo is not None
    assert trade["entry_time"].endswith("+00:00")
    assert {t["side"] for t in out["trades"]} == {"long", "short"}
    assert {t["exit_reason"] for t in out["trades"]} <= {"signal", "stop_loss", "end"}
    assert "stop_loss" in {t["exit_reason"] for t in out["trades"]}
    config = out["config"]
    assert config["spec_id"] == spec.spec_id
    assert (config["data"], config["strategy"]) == ("GOOGL", "sma_crossover")
    assert config["params"] == {"fast": 10, "slow": 30}
    assert config["settings"] == report.settings.to_dict()
    assert config["warmup_period"] == 30
    assert BacktestSpec.from_dict(config["spec"]).spec_id == spec.spec_id


def test_validated_params_fill_defaults_in_the_config() -> None:
    report = run_backtest_spec(BacktestSpec("GOOGL", "sma_crossover", {"slow": 40}))
    assert report.config()["params"] == {"fast": 10, "slow": 40}


def test_equity_frame_and_monthly_returns(make_spec: Callable[..., BacktestSpec]) -> None:
    report = run_backtest_spec(make_spec())
    frame = report.equity_frame()
    assert list(frame.columns) == ["equity", "position", "drawdown_pct"]
    assert frame.index.name == "timestamp"
    assert len(frame) == report.metrics["bars"]
    assert frame["drawdown_pct"].max() <= 0.0
    assert frame["drawdown_pct"].min() == pytest.approx(report.metrics["max_drawdown_pct"])
    growth = (1.0 + report.monthly_returns.stack() / 100.0).prod()
    assert growth == pytest.approx(report.metrics["final_equity"] / 10_000.0)


def test_a_registry_is_passed_in(tmp_path: Path) -> None:
    registry = DatasetRegistry(tmp_path / "elsewhere")
    registry.register_frame(synthetic_bars(400, seed=3), "SYN", synthetic=True)
    report = run_backtest_spec(BacktestSpec("SYN", "sma_crossover"), registry=registry)
    assert report.metrics["bars"] == 400
    with pytest.raises(DatasetNotFound):
        run_backtest_spec(BacktestSpec("SYN", "sma_crossover"))


def test_a_plugin_strategy_by_name() -> None:
    spec = BacktestSpec("GOOGL", "momentum", {"lookback": 30}, plugins=(PLUGINS,))
    assert run_backtest_spec(spec).strategy.name == "momentum"


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        (BacktestSpec("GOOGX", "sma_crossover"), DatasetNotFound, ["GOOGX", "GOOGL"]),
        (BacktestSpec("missing.csv", "sma_crossover"), Exception, ["missing.csv"]),
        (BacktestSpec("GOOGL", "sma_crosover"), StrategyError, ["did you mean 'sma_crossover'"]),
        (BacktestSpec("GOOGL", "sma_crossover", {"fats": 3}), ParameterError, ["'fast'"]),
        (BacktestSpec("GOOGL", "sma_crossover", {"fast": 40}), ParameterError, ["fast < slow"]),
    ],
)
def test_bad_input_raises_a_domain_error(
    spec: BacktestSpec, error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as err:
        run_backtest_spec(spec)
    assert err.value.code  # a TradesweepError
    for word in words:
        assert word in str(err.value)


# --- warm-up --------------------------------------------------------------------------


def test_too_few_bars_for_the_warmup_are_refused(head_csv: Callable[[int], str]) -> None:
    path = head_csv(40)
    spec = BacktestSpec(path, "sma_crossover", {"fast": 10, "slow": 50})
    with pytest.raises(InsufficientBars) as err:
        run_backtest_spec(spec)
    text = str(err.value)
    for word in ("'sma_crossover'", "warm-up of 50 bars", "at least 52 bars", "has 40"):
        assert word in text
    assert "shorter warm-up" in err.value.fix
    assert err.value.details == {
        "strategy": "sma_crossover",
        "warmup_period": 50,
        "bars": 40,
        "needed": 52,
    }


@pytest.mark.parametrize(("fill", "extra"), [("next_open", 2), ("close", 1)])
def test_warmup_boundary_is_one_signal_bar_and_one_fill_bar(
    head_csv: Callable[[int], str], fill: str, extra: int
) -> None:
    settings = EngineSettings(fill=fill)  # type: ignore[arg-type]
    strategy = get_strategy("sma_crossover", {"fast": 5, "slow": 20})
    assert bars_needed(strategy, settings) == 20 + extra
    enough = BacktestSpec(head_csv(20 + extra), "sma_crossover", strategy.params, settings)
    assert run_backtest_spec(enough).metrics["bars"] == 20 + extra
    short = enough.replace(data=head_csv(20 + extra - 1))
    with pytest.raises(InsufficientBars):
        run_backtest_spec(short)


# --- declarative execution settings -----------------------------------------------------


def test_declarative_execution_settings_apply_as_defaults() -> None:
    report = run_backtest_spec(BacktestSpec("GOOGL", GOLDEN, {"fast": 20, "slow": 50}))
    got = {k: getattr(report.settings, k) for k in GOLDEN_EXECUTION}
    assert got == GOLDEN_EXECUTION
    assert report.config()["settings"]["stop_loss"] == 0.08
    assert report.spec.settings.stop_loss is None  # the spec itself is unchanged


def test_explicit_settings_override_the_declarative_ones() -> None:
    spec = BacktestSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": GOLDEN,
            "params": {"fast": 20, "slow": 50},
            "settings": {"stop_loss": 0.03, "max_drawdown": None, "fees": 0.001},
        }
    )
    settings = run_backtest_spec(spec).settings
    assert settings.stop_loss == 0.03
    assert settings.max_drawdown is None  # explicitly switched off
    assert settings.take_profit == 0.5  # not given: the file's
    assert settings.trailing_stop == 0.12
    assert settings.fees == 0.001


def test_explicit_settings_from_an_engine_settings_object() -> None:
    spec = BacktestSpec("GOOGL", GOLDEN, settings=EngineSettings(trailing_stop=0.2))
    assert spec.explicit_settings == {"trailing_stop"}
    assert run_backtest_spec(spec).settings.trailing_stop == 0.2


def test_an_explicit_atr_stop_replaces_the_files_fraction_stop() -> None:
    spec = BacktestSpec.from_dict(
        {"data": "GOOGL", "strategy": GOLDEN, "settings": {"stop_loss_atr": 2.0}}
    )
    settings = run_backtest_spec(spec).settings
    assert (settings.stop_loss, settings.stop_loss_atr) == (None, 2.0)


def test_the_files_size_fraction_only_applies_to_percent_sizing() -> None:
    spec = BacktestSpec.from_dict(
        {"data": "GOOGL", "strategy": GOLDEN, "settings": {"size_type": "units"}}
    )
    settings = run_backtest_spec(spec).settings
    assert (settings.size_type, settings.size) == ("units", 1.0)
    assert settings.stop_loss == 0.08


def test_the_declarative_settings_change_the_result() -> None:
    with_file = run_backtest_spec(BacktestSpec("GOOGL", GOLDEN, {"fast": 10, "slow": 30}))
    off = {k: None for k in ("stop_loss", "take_profit", "trailing_stop", "max_drawdown")}
    without = run_backtest_spec(
        BacktestSpec.from_dict(
            {
                "data": "GOOGL",
                "strategy": GOLDEN,
                "params": {"fast": 10, "slow": 30},
                "settings": off,
            }
        )
    )
    reasons = set(with_file.trades_frame()["exit_reason"])
    assert reasons - {"signal", "end"}  # some stop fired
    assert set(without.trades_frame()["exit_reason"]) <= {"signal", "end"}
