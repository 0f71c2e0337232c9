"""What the API needs to run, passed to :func:`~tradesweep.api.app.create_app` (no globals)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tradesweep.environment import RuntimeSettings
from tradesweep.errors import TradesweepError
from tradesweep.specs import DEFAULT_MAX_COMBINATIONS
from tradesweep.store import default_database_url

NumberT = TypeVar("NumberT", int, float)

SESSION_SECRET_ENV = "TRADESWEEP_SESSION_SECRET"
SESSION_SECRET_FILE = "session-secret"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
BODY_TIMEOUT_ENV = "TRADESWEEP_BODY_TIMEOUT_SECONDS"
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0
DEFAULT_SESSION_SECONDS = 7 * 24 * 3600
SSE_HEARTBEAT_ENV = "TRADESWEEP_SSE_HEARTBEAT_SECONDS"
SSE_POLL_ENV = "TRADESWEEP_SSE_POLL_SECONDS"
METRICS_TOKEN_ENV = "TRADESWEEP_METRICS_TOKEN"
SUBMIT_RATE_ENV = "TRADESWEEP_SUBMIT_RATE"
SUBMIT_BURST_ENV = "TRADESWEEP_SUBMIT_BURST"
MAX_ACTIVE_JOBS_ENV = "TRADESWEEP_MAX_ACTIVE_JOBS"
MAX_SWEEP_COMBINATIONS_ENV = "TRADESWEEP_MAX_SWEEP_COMBINATIONS"
DEFAULT_SUBMIT_RATE = 10.0
DEFAULT_SUBMIT_BURST = 20
DEFAULT_MAX_ACTIVE_JOBS = 100
# Uploaded datasets: what a compressed file may expand to, and how many lines it may have.
MAX_UPLOAD_DECOMPRESSED_BYTES_ENV = "TRADESWEEP_MAX_UPLOAD_DECOMPRESSED_BYTES"
MAX_UPLOAD_ROWS_ENV = "TRADESWEEP_MAX_UPLOAD_ROWS"
DEFAULT_MAX_UPLOAD_DECOMPRESSED_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_UPLOAD_ROWS = 5_000_000


def load_session_secret(directory: Path) -> bytes:
    """``$TRADESWEEP_SESSION_SECRET``, else the per-install secret in ``directory`` (created
    with 32 random bytes, mode 0600, on first use). Every API process behind one load balancer
    must share it: set the variable there."""
    configured = os.environ.get(SESSION_SECRET_ENV)
    if configured:
        return configured.encode()
    return _secret_file(directory / SESSION_SECRET_FILE).encode()


def _secret_file(path: Path) -> str:
    """The random secret kept in ``path``, made (32 random bytes as hex, mode 0600 from the
    start, never readable by others) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip()


# ---- browser cookie and /metrics token (docs/security.md) ----------------------------------
COOKIE_SECURE_ENV = "TRADESWEEP_COOKIE_SECURE"
METRICS_TOKEN_FILE = "metrics-token"
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def cookie_secure_from_env() -> bool | None:
    """``$TRADESWEEP_COOKIE_SECURE``: ``true``/``false``, or ``auto`` (the default, None):
    Secure when the request came over HTTPS, as uvicorn saw it (a trusted proxy's
    ``X-Forwarded-Proto`` included)."""
    raw = os.environ.get(COOKIE_SECURE_ENV, "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw not in _BOOLEANS:
        raise TradesweepError(
            f"${COOKIE_SECURE_ENV} must be auto, true or false, got {raw[:40]!r}",
            fix=f"unset it (auto: Secure over HTTPS) or give {COOKIE_SECURE_ENV}=true",
        )
    return _BOOLEANS[raw]


def metrics_token_path(directory: Path) -> Path:
    return directory / METRICS_TOKEN_FILE


def load_metrics_token(directory: Path) -> str:
    """``$TRADESWEEP_METRICS_TOKEN``, else the per-install token in ``directory`` (made, mode
    0600, on first use): ``/metrics`` is never open without one."""
    return os.environ.get(METRICS_TOKEN_ENV) or _secret_file(metrics_token_path(directory))


@dataclass(frozen=True)
class ApiSettings:
    """``database_url``: SQLAlchemy URL of the store. ``data_dir``: the dataset registry the
    workers read (tickers are checked against it). ``max_body_bytes``: larger request bodies
    get 413 before they are read; ``body_timeout_seconds``: the longest a request body may
    take to arrive, all of it, before 408 and a closed connection (bodies are read whole
    before a route runs, so a slow client holds no database transaction).
    ``session_secret`` signs the browser session cookie; ``cookie_secure`` marks it
    HTTPS-only (None: when the request came over HTTPS).
    ``sse_poll_seconds``: how often a progress stream looks for new job events;
    ``sse_heartbeat_seconds``: the longest silence on a stream before a keep-alive comment.
    ``metrics_token``: ``/metrics`` needs ``Authorization: Bearer <token>`` (None:
    ``/metrics`` is refused). ``strategy_defaults``: the built-ins' default overrides the
    workers apply (a YAML file or directory; None: none), which the API lists and checks
    requests against.

    Limits (:mod:`tradesweep.api.limits`): ``submit_rate_per_second`` and ``submit_burst``,
    the token bucket of each API key's submissions in this process (rate 0: no limit);
    ``max_active_jobs``, queued + running jobs per tenant (0: no cap);
    ``max_sweep_combinations``, the largest sweep grid a request may ask for.

    Uploads (``POST /api/v1/datasets``): ``max_upload_decompressed_bytes``, the most bytes a
    file may have once decompressed (a ``.csv.gz`` is read through a counter that stops
    there); ``max_upload_rows``, the most lines (or Parquet rows) it may have."""

    database_url: str
    data_dir: Path
    session_secret: bytes
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    session_seconds: int = DEFAULT_SESSION_SECONDS
    cookie_secure: bool | None = None
    retry_after_seconds: int = 5
    sse_poll_seconds: float = 0.5
    sse_heartbeat_seconds: float = 15.0
    metrics_token: str | None = None
    submit_rate_per_second: float = DEFAULT_SUBMIT_RATE
    submit_burst: int = DEFAULT_SUBMIT_BURST
    max_active_jobs: int = DEFAULT_MAX_ACTIVE_JOBS
    max_sweep_combinations: int = DEFAULT_MAX_COMBINATIONS
    max_upload_decompressed_bytes: int = DEFAULT_MAX_UPLOAD_DECOMPRESSED_BYTES
    max_upload_rows: int = DEFAULT_MAX_UPLOAD_ROWS
    strategy_defaults: Path | None = None

    @property
    def strategies_dir(self) -> Path:
        """Where stored declarative strategies (``<name>.yaml``) live: ``<data_dir>/strategies``."""
        return self.data_dir / "strategies"

    @classmethod
    def from_env(
        cls,
        database_url: str | None = None,
        *,
        max_body_bytes: int | None = None,
        runtime: RuntimeSettings | None = None,
    ) -> ApiSettings:
        """Settings from the environment: ``$TRADESWEEP_DATABASE_URL`` (or the default SQLite
        file), ``runtime`` (None: read now from ``$TRADESWEEP_DATA_DIR`` and
        ``$TRADESWEEP_STRATEGY_DEFAULTS``), ``$TRADESWEEP_SESSION_SECRET`` (or the secret file),
        ``$TRADESWEEP_BODY_TIMEOUT_SECONDS``,
        ``$TRADESWEEP_SSE_POLL_SECONDS``, ``$TRADESWEEP_SSE_HEARTBEAT_SECONDS``,
        ``$TRADESWEEP_METRICS_TOKEN`` (or the token file), ``$TRADESWEEP_COOKIE_SECURE``,
        ``$TRADESWEEP_SUBMIT_RATE``, ``$TRADESWEEP_SUBMIT_BURST``,
        ``$TRADESWEEP_MAX_ACTIVE_JOBS``, ``$TRADESWEEP_MAX_SWEEP_COMBINATIONS``,
        ``$TRADESWEEP_MAX_UPLOAD_DECOMPRESSED_BYTES``, ``$TRADESWEEP_MAX_UPLOAD_ROWS``."""
        runtime = runtime or RuntimeSettings.from_environ(os.environ)
        return cls(
            database_url=database_url or default_database_url(),
            data_dir=runtime.data_dir,
            strategy_defaults=runtime.strategy_defaults,
            session_secret=load_session_secret(runtime.state_dir),
            max_body_bytes=max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            body_timeout_seconds=_seconds(BODY_TIMEOUT_ENV, DEFAULT_BODY_TIMEOUT_SECONDS),
            sse_poll_seconds=_seconds(SSE_POLL_ENV, 0.5),
            sse_heartbeat_seconds=_seconds(SSE_HEARTBEAT_ENV, 15.0),
            cookie_secure=cookie_secure_from_env(),
            metrics_token=load_metrics_token(runtime.state_dir),
            submit_rate_per_second=_number(SUBMIT_RATE_ENV, DEFAULT_SUBMIT_RATE, float, 0),
            submit_burst=_number(SUBMIT_BURST_ENV, DEFAULT_SUBMIT_BURST, int, 1),
            max_active_jobs=_number(MAX_ACTIVE_JOBS_ENV, DEFAULT_MAX_ACTIVE_JOBS, int, 0),
            max_sweep_combinations=_number(
                MAX_SWEEP_COMBINATIONS_ENV, DEFAULT_MAX_COMBINATIONS, int, 1
            ),
            max_upload_decompressed_bytes=_number(
                MAX_UPLOAD_DECOMPRESSED_BYTES_ENV, DEFAULT_MAX_UPLOAD_DECOMPRESSED_BYTES, int, 1
            ),
            max_upload_rows=_number(MAX_UPLOAD_ROWS_ENV, DEFAULT_MAX_UPLOAD_ROWS, int, 1),
        )


def _seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 3600:
        raise TradesweepError(
            f"${name} must be a number of seconds above 0, got {raw!r}",
            fix=f"unset it (default {default:g} s) or give e.g. {name}={default:g}",
        )
    return value


def _number(name: str, default: NumberT, kind: type[NumberT], minimum: float) -> NumberT:
    """A number of type ``kind`` at least ``minimum`` from the environment variable ``name``,
    else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not value >= minimum:
        raise TradesweepError(
            f"${name} must be a {kind.__name__} of at least {minimum:g}, got {raw!r}",
            fix=f"unset it (default {default}) or give e.g. {name}={default}",
        )
    return value
