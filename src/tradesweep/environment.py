"""The runtime environment, read once at the edge and passed in.

The library core (``data``, ``strategies``, ``sweep``, ...) never reads ``os.environ``: its
functions take a data directory, plugin paths and a defaults file as arguments, and a library
user passes them (``DatasetRegistry(data_dir)``, ``strategy_classes(plugins=..., defaults=...)``,
``run_sweep(spec, registry=..., defaults=...)``). The entry points (each CLI command,
``tradesweep serve``, ``tradesweep worker``) build one :class:`RuntimeSettings` with
:meth:`RuntimeSettings.from_environ` when they start and pass it down; a worker hands the
values it read at start to every job it runs, so a job never sees another environment (a
forkserver started earlier, a variable changed later).

The core never imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from tradesweep.data.registry import DATA_DIR_ENV, DatasetRegistry, default_data_dir


@dataclass(frozen=True)
class RuntimeSettings:
    """What the environment says to the core.

    ``data_dir``: the dataset registry's directory. ``state_dir``: where the service keeps its
    own files (the default SQLite database, the session secret, the metrics token): the same
    directory as ``data_dir`` when ``$TRADESWEEP_DATA_DIR`` is set, else (and by default) the
    platform's user data dir. ``strategy_plugins``:
    plugin files or directories whose strategies resolve by name. ``strategy_defaults``: a
    YAML file (or directory) overriding the built-ins' defaults (None: no override).
    """

    data_dir: Path
    state_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("tradesweep")))
    strategy_plugins: tuple[str, ...] = ()
    strategy_defaults: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RuntimeSettings:
        """``$TRADESWEEP_DATA_DIR`` (else the platform's user data dir),
        ``$TRADESWEEP_STRATEGY_PLUGINS`` (paths separated by the OS path separator) and
        ``$TRADESWEEP_STRATEGY_DEFAULTS``, read from ``environ`` (``os.environ`` at the edge)."""
        # here, not at the top: the strategies package loads the kernels, and `--help` waits
        from tradesweep.strategies.defaults import DEFAULTS_ENV
        from tradesweep.strategies.plugins import PLUGINS_ENV

        configured = environ.get(DATA_DIR_ENV)
        if configured:
            data_dir = state_dir = Path(configured).expanduser()
        else:
            data_dir, state_dir = default_data_dir(), Path(platformdirs.user_data_dir("tradesweep"))
        defaults = environ.get(DEFAULTS_ENV)
        return cls(
            data_dir=data_dir,
            state_dir=state_dir,
            strategy_plugins=tuple(p for p in environ.get(PLUGINS_ENV, "").split(os.pathsep) if p),
            strategy_defaults=Path(defaults) if defaults else None,
        )

    def registry(self, tenant: int | str | None = None) -> DatasetRegistry:
        """The dataset registry in :attr:`data_dir`, as ``tenant`` sees it (None: shared)."""
        return DatasetRegistry(self.data_dir, tenant=tenant)

    def plugins_or(self, given: list[Path] | None) -> list[str | Path]:
        """The plugins a command was given, else those of the environment."""
        return list(given) if given else list(self.strategy_plugins)
