"""``tradesweep keys revoke PREFIX`` and ``keys rotate PREFIX`` against a running
``tradesweep serve``: a revoked key (and every session made with it) gets 401 at once, a
rotated key's successor works for the same tenant and is printed once. SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

Serve = Any
TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
KEY = re.compile(r"^ts_[a-z0-9]{8}_[A-Za-z0-9_-]+$")


def keys(served: Serve, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
    env["TRADESWEEP_DATA_DIR"] = str(served.data_dir)
    return subprocess.run(
        [TRADESWEEP, "keys", *args, "--url", served.database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def me(served: Serve, key: str) -> httpx.Response:
    return httpx.get(f"{served.url}/api/v1/auth/me", headers={"X-API-Key": key}, timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest,
    run_serve: Callable[..., Serve],
    fresh_database: Callable[[str], str],
) -> Serve:
    url = fresh_database("postgresql") if request.param == "postgresql" else None
    return run_serve(database_url=url, workers=0)


def test_revoke_refuses_the_key_and_its_sessions_at_once(served: Serve) -> None:
    prefix = served.key[:11]
    with httpx.Client(base_url=served.url, timeout=30) as browser:
        login = browser.post("/api/v1/auth/login", json={"api_key": served.key})
        assert login.status_code == 200
        assert me(served, served.key).status_code == 200

        done = keys(served, "revoke", prefix)
        assert done.returncode == 0, done.stderr
        assert prefix in done.stdout and "revoked" in done.stdout
        assert served.key not in done.stdout + done.stderr

        refused = me(served, served.key)
        assert refused.status_code == 401 and "revoked" in refused.json()["message"]
        assert browser.get("/api/v1/auth/me").status_code == 401  # its session ended too
    listed = keys(served, "list")
    assert re.search(rf"{prefix}\s.*default.*\d{{4}}-\d\d-\d\d.*\d{{4}}-\d\d-\d\d", listed.stdout)

    again = keys(served, "revoke", prefix)  # revoking twice changes nothing and says so
    assert again.returncode == 0 and "already revoked" in again.stdout


def test_rotate_revokes_and_prints_a_new_key_for_the_same_tenant(served: Serve) -> None:
    created = keys(served, "create", "--tenant", "acme")
    assert created.returncode == 0, created.stderr
    old = created.stdout.strip()
    assert me(served, old).json()["tenant"] == "acme"

    rotated = keys(served, "rotate", old[:11])
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert KEY.match(new), rotated.stdout  # stdout is the new key alone: `KEY=$(... rotate)`
    assert new != old and old[:11] in rotated.stderr and new[:11] in rotated.stderr
    assert me(served, old).status_code == 401
    renewed = me(served, new)
    assert renewed.status_code == 200 and renewed.json()["tenant"] == "acme"
    assert me(served, served.key).json()["tenant"] == "default"  # other keys untouched


@pytest.mark.parametrize("command", ["revoke", "rotate"])
def test_an_unknown_prefix_is_one_line_with_a_hint(served: Serve, command: str) -> None:
    done = keys(served, command, "ts_nothing0")
    assert done.returncode == 2
    assert "no API key with prefix 'ts_nothing0'" in done.stderr
    assert "tradesweep keys list" in done.stderr and "Traceback" not in done.stderr
    assert me(served, served.key).status_code == 200
