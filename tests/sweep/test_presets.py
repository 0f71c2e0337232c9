"""Settings presets: the built-ins, user files, precedence of explicit values, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tradesweep.engine import EngineSettings
from tradesweep.specs import SweepSpec
from tradesweep.sweep import PresetError, builtin_presets, load_preset

ROOT = Path(__file__).resolve().parents[2]


def spec(**fields: object) -> SweepSpec:
    return SweepSpec.from_dict(
        {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": "5:10"}, **fields}
    )


def test_builtin_presets_are_packaged() -> None:
    assert {"minimum", "standard"} <= set(builtin_presets())
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "sweep/presets/*.yaml" in data["tool"]["setuptools"]["package-data"]["tradesweep"]


def test_minimum_is_cost_free_and_standard_is_realistic() -> None:
    minimum, standard = load_preset("minimum"), load_preset("standard")
    assert minimum.settings["fees"] == minimum.settings["slippage"] == 0.0
    assert minimum.spec_fields["min_trades"] == 1
    assert standard.settings == {
        "fees": 0.001,
        "fixed_fee": 0.0,
        "slippage": 0.0005,
        "fill": "next_open",
    }
    assert standard.spec_fields == {"risk_free_rate": 0.0, "min_trades": 20}
    assert standard.description


def test_a_preset_fills_what_the_spec_does_not_give() -> None:
    s = spec(preset="standard")
    assert s.settings == EngineSettings(fees=0.001, slippage=0.0005, fill="next_open")
    assert s.min_trades == 20 and s.preset == "standard"


def test_explicit_values_override_the_preset() -> None:
    s = spec(preset="standard", settings={"fees": 0.002, "fill": "close"}, min_trades=5)
    assert (s.settings.fees, s.settings.slippage, s.settings.fill) == (0.002, 0.0005, "close")
    assert s.min_trades == 5
    # None means "not given" (what the CLI passes for a flag left out)
    assert spec(preset="standard", min_trades=None, risk_free_rate=None).min_trades == 20
    # an EngineSettings counts the fields it changes from the defaults as given
    s = spec(preset="standard", settings=EngineSettings(slippage=0.01))
    assert (s.settings.fees, s.settings.slippage) == (0.001, 0.01)


def test_a_preset_changes_the_spec_id() -> None:
    assert spec(preset="standard").spec_id != spec(preset="minimum").spec_id
    assert spec().spec_id != spec(preset="standard").spec_id


def test_a_user_preset_file(tmp_path: Path) -> None:
    path = tmp_path / "crypto.yaml"
    path.write_text("description: 24/7 venue\nfees: 0.0004\nperiods_per_year: 365\nmin_trades: 8\n")
    s = spec(preset=str(path))
    assert s.settings.fees == 0.0004 and s.periods_per_year == 365.0 and s.min_trades == 8
    assert load_preset(path).name == "crypto"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feez: 0.001\n", r"crypto\.yaml: unknown key 'feez' \(did you mean 'fees'\?"),
        ("min_trade: 3\n", r"unknown key 'min_trade' \(did you mean 'min_trades'\?"),
        ("fees: 2\n", r"crypto\.yaml: setting 'fees' is 2"),
        ("min_trades: -3\n", r"min_trades is -3"),
        ("risk_free_rate: abc\n", r"risk_free_rate is 'abc'"),
        ("- fees\n", r"must be a mapping"),
        ("fees: [\n", r"not valid YAML"),
    ],
)
def test_bad_preset_files_name_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "crypto.yaml"
    path.write_text(text)
    with pytest.raises(PresetError, match=message):
        load_preset(path)


def test_unknown_or_missing_presets() -> None:
    with pytest.raises(PresetError, match=r"unknown preset 'standrad' \(did you mean 'standard'"):
        spec(preset="standrad")
    with pytest.raises(PresetError, match="does not exist"):
        spec(preset="no/such/preset.yaml")
