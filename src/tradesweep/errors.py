"""Domain errors. Each says what was wrong, where, and how to fix it.

The CLI turns any :class:`TradesweepError` into one line on stderr and exit code 2; the API
(later) maps them to a 4xx with ``{"error": code, "message": text, "details": {...}}``.
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


def did_you_mean(name: object, choices: Sequence[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices``, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(name), choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


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
