"""Schemathesis against the real API: uvicorn on a loopback port over SQLite and PostgreSQL,
its own ``/openapi.json``, real HTTP, the ``st`` command line with
``tests/api/schemathesis.toml``.

Every operation gets the boundary cases of its schema (coverage phase) and generated
schema-valid and schema-invalid requests (fuzzing), and every answer must be:

- never a 5xx (``not_a_server_error``);
- a documented status, content type and body (``status_code_conformance``,
  ``content_type_conformance``, ``response_schema_conformance``);
- a 4xx for a schema-invalid request (``negative_data_rejection``);
- not a refusal for a schema-valid one, but for the rules a JSON Schema cannot state
  (``schema_valid_request_accepted`` in ``tests/api/schemathesis_hooks.py``).

The run is bounded (:data:`EXAMPLES` per operation, a fixed seed) so ``make test`` stays
quick; ``TRADESWEEP_SCHEMATHESIS_EXAMPLES=500`` runs a longer one and
``TRADESWEEP_SCHEMATHESIS_SEED`` another seed (docs/api.md has the command against any server).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradesweep.api import ApiSettings, create_app

from ..servers import ServerThread
from .conftest import SECRET, Caller

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = str(Path(sys.executable).with_name("st"))
EXAMPLES = int(os.environ.get("TRADESWEEP_SCHEMATHESIS_EXAMPLES", "15"))
"""Generated requests per operation (the boundary cases come on top)."""
SEED = int(os.environ.get("TRADESWEEP_SCHEMATHESIS_SEED", "20261202"))
METRICS_TOKEN = "schemathesis-metrics-token"
"""The server's metrics token; the hooks send it to ``/metrics`` (an API key is refused there)."""


@pytest.fixture
def settings(db_url: str, data_dir: Path) -> ApiSettings:
    """The suite's API settings with the submission limits out of the way: the run sends
    hundreds of submissions that no worker runs, so the rate and active-job caps would answer
    429 to all but the first few (tests/api/test_limits.py tests them)."""
    return ApiSettings(
        database_url=db_url,
        data_dir=data_dir,
        session_secret=SECRET,
        max_body_bytes=64 * 1024,
        submit_rate_per_second=10_000.0,
        submit_burst=10_000,
        max_active_jobs=1_000_000,
        metrics_token=METRICS_TOKEN,
    )


@pytest.fixture
def api(settings: ApiSettings, engine: Engine) -> Iterator[str]:
    """The suite's API, its progress streams ending at once as when the server shuts down: a
    stream stays open until its job ends and no worker runs here, so the streams' parameters
    are checked without holding the run."""
    app = create_app(settings, engine=engine)
    app.state.stopping.set()
    with ServerThread(app) as server:
        yield server.url


def test_every_answer_matches_the_schema(api: str, make_caller: Callable[[str], Caller]) -> None:
    caller = make_caller("acme")
    command = [
        ST, "--config-file", str(CONFIG), "--no-color",
        "run", f"{api}/openapi.json",
        "--header", f"X-API-Key: {caller.key}",
        "--max-examples", str(EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--generation-database", "none",
    ]  # fmt: skip
    env = {**os.environ, "TRADESWEEP_METRICS_TOKEN": METRICS_TOKEN}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20_000:]
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", output)
    assert selected is not None, output[-5_000:]
    assert len(set(selected.groups())) == 1, f"not every operation was tested:\n{output[-5_000:]}"
    assert "Authentication failed" not in output, output[-5_000:]  # /metrics got its token
