"""After a kernel edit the next run uses the edit, even in a kernel of another module that calls it.

Two tiny modules in a temp dir, ``a_nb.a`` calling ``b_nb.b``, both ``njit(cache=True)``; each
run is a fresh interpreter, so numba's on-disk cache is the real one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tradesweep
from tradesweep import _kernel_cache

SRC = Path(tradesweep.__file__).resolve().parent.parent

A_NB = """
from numba import njit

from b_nb import b


@njit(cache=True)
def a(x):
    return b(x) + 1.0
"""

B_NB = """
from numba import njit


@njit(cache=True)
def b(x):
    return x * 2.0
"""

RUN = """
import json, os, sys
from pathlib import Path

kernels = Path(sys.argv[1])
cleared = []
if sys.argv[2] == "guard":
    from tradesweep._kernel_cache import refresh

    cleared = [str(p) for p in refresh(kernels, os.environ)]
sys.path.insert(0, str(kernels))
import a_nb

value = a_nb.a(3.0)
hits = sum(a_nb.a.stats.cache_hits.values())
print(json.dumps({"a": value, "cleared": cleared, "hits": hits}))
"""


def run(tmp_path: Path, kernels: Path, mode: str, cache_dir: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(SRC)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    script = tmp_path / "run.py"
    script.write_text(RUN)
    done = subprocess.run(
        [sys.executable, str(script), str(kernels), mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("where", ["in_tree", "numba_cache_dir"])
def test_a_callee_edit_reaches_its_caller_with_the_guard(tmp_path: Path, where: str) -> None:
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "a_nb.py").write_text(A_NB)
    (kernels / "b_nb.py").write_text(B_NB)
    cache_dir = tmp_path / "numba-cache" if where == "numba_cache_dir" else None

    first = run(tmp_path, kernels, "guard", cache_dir)
    assert first["a"] == 7.0 and first["hits"] == 0
    assert run(tmp_path, kernels, "guard", cache_dir)["hits"] == 1  # a stamped cache is kept

    (kernels / "b_nb.py").write_text(B_NB.replace("x * 2.0", "x * 3.0"))
    # numba alone: a's cache is checked against a_nb.py only, so the old b runs.
    assert run(tmp_path, kernels, "plain", cache_dir)["a"] == 7.0
    fresh = run(tmp_path, kernels, "guard", cache_dir)
    assert fresh["a"] == 10.0 and fresh["hits"] == 0
    assert len(fresh["cleared"]) == 1
    if cache_dir is not None:
        assert Path(fresh["cleared"][0]).parent == cache_dir  # numba's subpath, mirrored

    again = run(tmp_path, kernels, "guard", cache_dir)
    assert again == {"a": 10.0, "cleared": [], "hits": 1}


def test_every_module_with_kernels_is_hashed() -> None:
    package = Path(tradesweep.__file__).parent
    with_kernels = {
        path
        for path in package.rglob("*.py")
        if re.search(r"^@(numba\.)?(njit|jit|vectorize|guvectorize)\b", path.read_text(), re.M)
    }
    assert with_kernels, "no kernels found: the scan is wrong"
    hashed = set(_kernel_cache.kernel_sources(package))
    missing = with_kernels - hashed
    assert not missing, f"kernel modules must be named *nb.py to be hashed: {sorted(missing)}"
    # Values the kernels import are compiled in as constants: their module is hashed too.
    assert package / "engine" / "enums.py" in hashed


def test_importing_tradesweep_stamps_numbas_cache_dir(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NUMBA_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", "import tradesweep"], env=env, check=True, timeout=60)
    stamped = {p.parent.name.rsplit("_", 1)[0] for p in tmp_path.glob("*/" + "*.stamp")}
    assert stamped == {"engine", "indicators", "sweep", "builtins"}


def test_unwritable_cache_dirs_are_left_alone(tmp_path: Path) -> None:
    # Files where every candidate directory would be: unwritable even for root.
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "a_nb.py").write_text(A_NB)
    (kernels / "__pycache__").write_text("not a directory")
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory")
    env = {"NUMBA_CACHE_DIR": str(blocked), "XDG_CACHE_HOME": str(blocked)}
    assert _kernel_cache.refresh(kernels, env) == []
    assert blocked.read_text() == "not a directory"
