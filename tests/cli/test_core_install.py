"""The library-only install (``pip install tradesweep``, no extras) runs the research commands;
the service commands say in one line which extra to install (exit 2), never a traceback.

The quick tests hide the service extra's packages from a subprocess of this venv; the slow one
builds the wheel, installs it without extras into a fresh venv and runs the installed command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = SRC.parent
SERVICE_ONLY = (
    "structlog",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "fastapi_offline",
    "starlette",
    "uvicorn",
    "httpx",
    "standardwebhooks",
    "prometheus_client",
    "tenacity",
    "multipart",
    "python_multipart",
)
PAPER_ONLY = ("redis", "ccxt")
"""The paper extra's packages: `paper run` replays on the in-process bus without them."""
EXTRA_LINE = "pip install 'tradesweep[service]'"
_WITHOUT_SERVICE = f"""
import sys
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVICE_ONLY + PAPER_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, _Hide())
sys.argv = ["tradesweep", *sys.argv[1:]]
from tradesweep.cli.main import main
main()
"""

Run = Callable[..., subprocess.CompletedProcess[str]]

LIBRARY_COMMANDS = [
    ["--help"],
    ["data", "list"],
    ["strategies", "list"],
    ["backtest", "-d", "GOOGL", "-s", "sma_crossover"],
    ["sweep", "-d", "GOOGL", "-s", "sma_crossover", "-r", "fast=10:20:10", "-r", "slow=50"],
    [
        "walkforward",
        "-d",
        "GOOGL",
        "-s",
        "sma_crossover",
        "-r",
        "fast=10,20",
        "-r",
        "slow=50",
        "--train-bars",
        "800",
        "--test-bars",
        "400",
    ],
]
SERVICE_COMMANDS = [
    ["serve"],
    ["serve", "--help"],
    ["worker"],
    ["db", "upgrade"],
    ["keys", "create", "acme"],
    ["webhooks", "--help"],
]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
    env.pop("PYTHONPATH", None)
    env |= {"TRADESWEEP_DATA_DIR": str(tmp / "datasets"), "COLUMNS": "160"}
    return env


def _check_library(run: Run, args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def _check_service(run: Run, args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and EXTRA_LINE in lines[0], lines[0]


@pytest.fixture(scope="module")
def hidden(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``tradesweep`` in this venv with the service extra's packages hidden."""
    tmp = tmp_path_factory.mktemp("no-service")
    env = _env(tmp) | {"PYTHONPATH": str(SRC)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _WITHOUT_SERVICE, *args],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


PAPER_RUN = ["paper", "run", "-d", "GOOGL", "-s", "sma_crossover", "--json"]


@pytest.mark.parametrize("args", [*LIBRARY_COMMANDS[:4], PAPER_RUN], ids=" ".join)
def test_library_commands_run_without_the_service_extra(hidden: Run, args: list[str]) -> None:
    _check_library(hidden, args)


@pytest.mark.parametrize("args", SERVICE_COMMANDS, ids=" ".join)
def test_service_commands_name_the_extra_in_one_line(hidden: Run, args: list[str]) -> None:
    _check_service(hidden, args)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The built wheel installed without extras in a fresh venv (pip's cache is reused)."""
    tmp = tmp_path_factory.mktemp("core-install")
    env = _env(tmp)
    dist = tmp / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)]
    subprocess.run(build, check=True, env=env, capture_output=True)
    wheel = next(dist.glob("tradesweep-*.whl"))
    venv.create(tmp / "venv", with_pip=True)
    bin_dir = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        env=env,
        capture_output=True,
    )
    work = tmp / "work"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "tradesweep"), *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.mark.slow
def test_the_wheel_without_extras_runs_the_library_and_names_the_extra(installed: Run) -> None:
    for args in [*LIBRARY_COMMANDS, ["demo", "--html", "demo.html"]]:
        _check_library(installed, args)
    for args in SERVICE_COMMANDS[:2]:
        _check_service(installed, args)
