"""Domain errors. Each says what was wrong, where, and how to fix it.

The CLI turns any :class:`TradesweepError` into one line on stderr and exit code 2; the API
maps them to a 4xx with ``{"error": code, "message": text, "details": {...}}``.

Every error a user can cause, by where it is defined (``code`` in brackets)::

    ValueError
    └── TradesweepError [invalid_input]                       errors
        ├── DataError [invalid_data]                          errors
        │   ├── DatasetExists [dataset_exists]                errors
        │   └── DatasetReadOnly [dataset_read_only]           errors
        ├── DatasetNotFound [dataset_not_found]               errors
        ├── StrategyError [invalid_strategy]                  errors
        ├── ParameterError [invalid_parameter]                errors
        ├── SettingsError [invalid_setting]                   errors
        │   specs
        ├── SpecError [invalid_spec]                          specs.backtest
        ├── InsufficientBars [insufficient_bars]              specs.backtest
        ├── SweepSpecError [invalid_spec]                     specs.sweep (walk-forward too)
        ├── PresetError [invalid_preset]                      sweep.preset
        │   services and jobs
        ├── UnknownJobType [unknown_job_type]                 services.execute
        ├── InvalidJobSpec [invalid_spec]                     services.execute
        ├── SpecNotAllowed [spec_not_allowed]                 services.submit_spec
        │   └── UnknownDataset [unknown_ticker]               services.submit_spec
        ├── InvalidSpec [invalid_spec]                        services.submit_spec
        ├── UnsafeWebhookURL [unsafe_webhook_url]             notify.ssrf
        │   paper trading
        ├── UnknownExchange [unknown_exchange]                paper.sources
        ├── UnknownSymbol [unknown_symbol]                    paper.sources
        ├── PaperSessionError [invalid_session]               paper.session
        │   store
        ├── IdempotencyConflict [idempotency_conflict]        store.errors
        ├── NotFound [not_found]                              store.errors
        ├── InvalidTenant [invalid_tenant]                    store.errors
        ├── InvalidCursor [invalid_cursor]                    store.pagination
        ├── InvalidSessionTransition [invalid_session_transition] store.paper_repo
        │   paper
        ├── InvalidStreamName [invalid_stream_name]           paper.bus
        ├── InvalidMessage [invalid_message]                  paper.bus
        │   └── MessageTooLarge [message_too_large]           paper.bus
        ├── InvalidBrokerURL [invalid_broker_url]             paper.bus
        ├── BrokerUnavailable [broker_unavailable]            paper.bus
        │   API
        ├── Unauthorized [unauthorized]                       api.errors
        ├── PayloadTooLarge [payload_too_large]               api.errors
        ├── InvalidBody [invalid_body]                        api.errors
        │   └── NulCharacter [nul_character]                  api.limits
        ├── UnsupportedMediaType [unsupported_media_type]     api.errors
        ├── TooManyRequests [too_many_requests]               api.errors
        │   ├── RateLimited [rate_limited]                    api.limits
        │   └── TooManyActiveJobs [too_many_active_jobs]      api.limits
        ├── NotReady [not_ready]                              api.errors
        │   CLI
        ├── MissingExtra [missing_extra]                      cli.main
        ├── NoDatabase [no_database]                          cli.db
        └── DatasetInUse [dataset_in_use]                     cli.data

Not a user's mistake, so not a ``TradesweepError`` (and not a ``ValueError``: an ``except
ValueError`` around a run must not swallow them)::

    Exception
    ├── Cancellation [cancelled]        errors: the caller asked a run to stop
    │   └── SweepCancelled              sweep.progress
    ├── LeaseLost                       jobs.lease: another worker holds the job now
    ├── ExchangeUnavailable             paper.sources: retries spent or the breaker open
    └── Refused                         api.ws: a WebSocket handshake refused
    LookupError
    └── GroupNotFound                   paper.bus: a consumer group never made (a caller's bug)
    AssertionError
    └── LookaheadError                  strategies.lookahead: a strategy reads the future
    ValueError
    └── TooDeep                         jsontext: JSON nested deeper than the limit

Unknown names get a did-you-mean from one helper, :func:`did_you_mean` (:func:`close_matches`
where the hint is worded inside a message).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any


class TradesweepError(ValueError):
    """Base class for bad input a user can fix.

    ``code`` is a stable snake_case identifier, ``details`` a JSON-able dict naming where the
    problem is (file, row, column, field, parameter, ...).
    """

    code = "invalid_input"

    def __init__(self, message: str, *, fix: str | None = None, **details: Any) -> None:
        self.message = message
        self.fix = fix
        self.details = {k: v for k, v in details.items() if v is not None}
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message

    def to_dict(self) -> dict[str, Any]:
        details = dict(self.details)
        if self.fix:
            details["fix"] = self.fix
        return {"error": self.code, "message": str(self), "details": details}


class DataError(TradesweepError):
    """Market data that cannot be loaded or does not pass validation."""

    code = "invalid_data"


class DatasetNotFound(TradesweepError):
    """A ticker that is not in the dataset registry."""

    code = "dataset_not_found"


class DatasetExists(DataError):
    """A write to a ticker the registry already holds, without ``overwrite``."""

    code = "dataset_exists"


class DatasetReadOnly(DataError):
    """A write to a bundled sample, or from a tenant to the shared data."""

    code = "dataset_read_only"


class StrategyError(TradesweepError):
    """An unknown strategy, a strategy file that fails to load, or a malformed declarative file."""

    code = "invalid_strategy"


class ParameterError(TradesweepError):
    """A strategy parameter that is unknown, of the wrong type or out of its bounds."""

    code = "invalid_parameter"


class SettingsError(TradesweepError):
    """An engine or metric setting outside its allowed range."""

    code = "invalid_setting"


class Cancellation(Exception):
    """The caller asked a running evaluation to stop; ``details`` say how far it got.

    Not a :class:`TradesweepError` (nothing to fix, nothing a retry would change) and not a
    ``ValueError``."""

    code = "cancelled"

    def __init__(self, message: str, **details: Any) -> None:
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}
        super().__init__(message)


def close_matches(
    name: object, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.6
) -> list[str]:
    """The (at most ``n``) ``choices`` closest to ``name``, best first (:mod:`difflib`)."""
    return difflib.get_close_matches(str(name), list(choices), n=n, cutoff=cutoff)


def did_you_mean(
    name: object,
    choices: Iterable[str],
    *,
    n: int = 1,
    cutoff: float = 0.6,
    quote: str = "'",
    prefix: str = "",
) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices`` (up to ``n``, joined by
    commas; each shown as ``quote + prefix + choice + quote``), or ``""`` when none is close."""
    close = close_matches(name, choices, n=n, cutoff=cutoff)
    if not close:
        return ""
    return f"did you mean {', '.join(f'{quote}{prefix}{c}{quote}' for c in close)}? "


def reject_unknown_fields(
    keys: Iterable[object], known: Sequence[str], *, what: str, error: type[TradesweepError]
) -> None:
    """Raise ``error`` for the first key not in ``known``: "unknown <what> field 'x'" with a
    did-you-mean and the valid fields. Specs call it so a typo never passes silently."""
    for key in keys:
        if key not in known:
            raise error(
                f"unknown {what} field '{key}'",
                fix=f"{did_you_mean(key, known)}valid fields: {', '.join(known)}",
                field=str(key),
            )
