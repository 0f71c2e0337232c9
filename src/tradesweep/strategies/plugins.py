"""User strategies: :class:`~tradesweep.strategies.base.Strategy` subclasses in Python files.

A plugin is a ``.py`` file, a directory of them (every ``*.py`` not starting with ``_``,
sorted), or ``file.py:ClassName`` for one class of a file. Each file is imported under a
unique module name derived from its absolute path and modification time, so two files called
``momentum.py`` never collide and an edited file is imported afresh. A file that fails to import
gives a StrategyError naming the file and the line; a file (or directory) without a concrete
Strategy subclass says so.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType

from tradesweep.errors import StrategyError, did_you_mean
from tradesweep.strategies.base import Strategy

MODULE_PREFIX = "tradesweep_plugin_"
PLUGINS_ENV = "TRADESWEEP_STRATEGY_PLUGINS"
_CLASS_SUFFIX = re.compile(r"^(?P<path>.+\.py):(?P<cls>[A-Za-z_][A-Za-z0-9_]*)$")


def split_plugin_spec(spec: str | Path) -> tuple[Path, str | None]:
    """``"dir/x.py:Momentum"`` -> ``(Path("dir/x.py"), "Momentum")``; a plain path -> no class."""
    match = _CLASS_SUFFIX.match(str(spec))
    if match:
        return Path(match["path"]), match["cls"]
    return Path(spec), None


def is_plugin_spec(spec: str | Path) -> bool:
    path, cls = split_plugin_spec(spec)
    return cls is not None or path.suffix == ".py" or path.is_dir()


def load_plugin(spec: str | Path) -> list[type[Strategy]]:
    """The Strategy classes of a plugin file, directory or ``file.py:ClassName``."""
    path, class_name = split_plugin_spec(spec)
    if path.is_dir():
        if class_name is not None:  # pragma: no cover - the pattern needs a .py path
            raise StrategyError(f"{path} is a directory", file=str(path))
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        classes = [cls for file in files for cls in _strategies_in(import_plugin_file(file))]
        if not classes:
            raise StrategyError(
                f"{path}: no Strategy subclass in any of its {len(files)} .py file(s)",
                fix="define a class deriving from tradesweep.strategies.Strategy",
                file=str(path),
            )
        _refuse_duplicates(classes, str(path))
        return classes
    if not path.exists():
        raise StrategyError(
            f"plugin file {path} does not exist",
            fix="check the path (a .py file, a directory, or file.py:ClassName)",
            file=str(path),
        )
    classes = _strategies_in(import_plugin_file(path))
    if not classes:
        raise StrategyError(
            f"{path}: no Strategy subclass found",
            fix="define a class deriving from tradesweep.strategies.Strategy that implements "
            "signals, on_candle, reset and warmup_period",
            file=str(path),
        )
    if class_name is None:
        _refuse_duplicates(classes, str(path))
        return classes
    by_name = {cls.__name__: cls for cls in classes}
    if class_name not in by_name:
        raise StrategyError(
            f"{path}: no Strategy subclass named '{class_name}'",
            fix=f"{did_you_mean(class_name, by_name)}classes in the file: {', '.join(by_name)}",
            file=str(path),
        )
    return [by_name[class_name]]


def import_plugin_file(path: Path) -> ModuleType:
    """Import one file under a unique module name (reused while the file is unchanged)."""
    path = path.resolve()
    stamp = f"{path}:{path.stat().st_mtime_ns}:{path.stat().st_size}"
    digest = hashlib.sha1(stamp.encode()).hexdigest()[:12]
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"{MODULE_PREFIX}{stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-.py suffixes
        raise StrategyError(f"{path}: cannot be imported as Python", file=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[module_name]
        raise _import_error(path, exc) from None
    return module


def _import_error(path: Path, exc: BaseException) -> StrategyError:
    if isinstance(exc, SyntaxError):
        file, line = exc.filename or str(path), exc.lineno
        what = f"SyntaxError: {exc.msg}"
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        mine = [f for f in frames if Path(f.filename).resolve() == path]
        frame = mine[-1] if mine else (frames[-1] if frames else None)
        file = frame.filename if frame else str(path)
        line = frame.lineno if frame else None
        what = f"{type(exc).__name__}: {exc}"
    where = f"{file}, line {line}" if line else file
    return StrategyError(
        f"cannot load plugin {path}: {where}: {what}",
        fix="fix the error at that line (run `python " + str(path) + "` to see the traceback)",
        file=str(file),
        line=line,
    )


def _strategies_in(module: ModuleType) -> list[type[Strategy]]:
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Strategy)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]
    for cls in classes:
        missing = [a for a in ("name", "description", "schema") if not hasattr(cls, a)]
        if missing:
            raise StrategyError(
                f"{module.__file__}: class {cls.__name__} does not set {', '.join(missing)}",
                fix="set the class attributes name (str), description (str) and schema "
                "(a tuple of Param)",
                file=str(module.__file__),
            )
    return classes


def _refuse_duplicates(classes: list[type[Strategy]], where: str) -> None:
    seen: dict[str, type[Strategy]] = {}
    for cls in classes:
        if cls.name in seen:
            raise StrategyError(
                f"{where}: two strategies are named '{cls.name}' "
                f"({seen[cls.name].__name__} and {cls.__name__})",
                fix="give each strategy its own name",
                file=where,
            )
        seen[cls.name] = cls
