"""Routes are thin: no router module (nor the WebSocket handler) imports the store; they reach
it only through ``tradesweep.services``. Read from the source with :mod:`ast`, so an import
inside a function or under ``TYPE_CHECKING`` counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tradesweep.api

API = Path(tradesweep.api.__file__).parent
ROUTE_MODULES = sorted([*(API / "routers").glob("*.py"), API / "ws.py"])


def store_imports(path: Path) -> list[str]:
    """``line: module`` of each import of ``tradesweep.store`` (or a module under it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        hits = [n for n in names if n == "tradesweep.store" or n.startswith("tradesweep.store.")]
        if hits:
            found.append(f"{node.lineno}: {hits[0]}")
    return found


def test_the_route_modules_are_found() -> None:
    assert {p.name for p in ROUTE_MODULES} >= {"jobs.py", "sweeps.py", "health.py", "ws.py"}


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.name)
def test_no_router_imports_the_store(path: Path) -> None:
    assert store_imports(path) == [], (
        f"{path.name} imports the store; go through a tradesweep.services function instead"
    )


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import tradesweep.store\n"
        "from tradesweep.store.errors import NotFound\n"
        "from tradesweep import store\n"
        "def f():\n    from tradesweep.store import JobRepository\n"
        "from tradesweep.services import jobs\n",
        encoding="utf-8",
    )
    assert [hit.split(":")[0] for hit in store_imports(module)] == ["1", "2", "3", "5"]
