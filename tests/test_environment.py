"""RuntimeSettings: the environment read once at the edge (issue 12 §1)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from tradesweep.data import default_data_dir
from tradesweep.environment import RuntimeSettings


def test_an_empty_environment_gives_the_library_defaults() -> None:
    runtime = RuntimeSettings.from_environ({})
    assert runtime.data_dir == default_data_dir()
    assert runtime.state_dir == Path(platformdirs.user_data_dir("tradesweep"))
    assert runtime.strategy_plugins == ()
    assert runtime.strategy_defaults is None
    assert RuntimeSettings(default_data_dir()) == runtime


def test_each_variable_is_read_from_the_mapping_given(tmp_path: Path) -> None:
    plugins = os.pathsep.join([str(tmp_path / "a.py"), "", str(tmp_path / "more")])
    runtime = RuntimeSettings.from_environ(
        {
            "TRADESWEEP_DATA_DIR": str(tmp_path / "data"),
            "TRADESWEEP_STRATEGY_PLUGINS": plugins,
            "TRADESWEEP_STRATEGY_DEFAULTS": str(tmp_path / "defaults.yaml"),
        }
    )
    assert runtime.data_dir == runtime.state_dir == tmp_path / "data"
    assert runtime.registry().data_dir == tmp_path / "data"
    assert runtime.registry(tenant=3).root == tmp_path / "data" / "tenants" / "3"
    assert runtime.strategy_plugins == (str(tmp_path / "a.py"), str(tmp_path / "more"))
    assert runtime.strategy_defaults == tmp_path / "defaults.yaml"
    assert runtime.plugins_or(None) == list(runtime.strategy_plugins)
    assert runtime.plugins_or([tmp_path / "b.py"]) == [tmp_path / "b.py"]
