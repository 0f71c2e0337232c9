"""The library core never reads the process environment (issue 12 §1): the CLI, ``serve`` and
``worker`` read it once into :class:`tradesweep.environment.RuntimeSettings` and pass it down."""

from __future__ import annotations

import ast
from pathlib import Path

import tradesweep

PACKAGE = Path(tradesweep.__file__).resolve().parent
CORE = ("data", "indicators", "strategies", "engine", "metrics", "sweep", "specs")
CORE_FILES = ("errors.py", "jsontext.py", "_kernel_cache.py")
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def core_modules() -> list[Path]:
    files = [PACKAGE / name for name in CORE_FILES if (PACKAGE / name).is_file()]
    for package in CORE:
        files.extend(sorted((PACKAGE / package).rglob("*.py")))
    return files


def environment_reads(path: Path) -> list[str]:
    """``line what`` for each ``os.environ`` / ``os.getenv`` (or one imported from os)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found.extend(
                (node.lineno, f"from os import {alias.name}")
                for alias in node.names
                if alias.name in ENVIRONMENT
            )
    return [f"{line} {what}" for line, what in sorted(found)]


def test_the_walk_sees_every_core_package() -> None:
    modules = {p.relative_to(PACKAGE).parts[0] for p in core_modules()}
    assert {"data", "indicators", "strategies", "engine", "metrics", "sweep"} <= modules
    assert {"errors.py", "jsontext.py", "_kernel_cache.py"} <= modules


def test_the_check_finds_each_way_of_reading_the_environment(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os\nfrom os import getenv\nx = os.environ.get('A')\ny = os.getenv('B')\n"
        "z = os.path.join('a', 'b')\n"
    )
    assert environment_reads(probe) == ["2 from os import getenv", "3 os.environ", "4 os.getenv"]


def test_no_core_module_reads_the_environment() -> None:
    reads = [
        f"{path.relative_to(PACKAGE)}:{read}"
        for path in core_modules()
        for read in environment_reads(path)
    ]
    assert reads == [], "core modules take settings as arguments, never os.environ: " + ", ".join(
        reads
    )
