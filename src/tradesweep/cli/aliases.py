"""Old flag names kept as hidden aliases (``docs/glossary.md`` lists them): each command
declares the old flag as a hidden option and merges it into the new one here."""

from __future__ import annotations

from typing import TypeVar

try:  # typer >= 0.22 vendors click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typers use click itself
    from click.exceptions import UsageError  # type: ignore[assignment,no-redef]

T = TypeVar("T")


def merged(new: T | None, old: T | None, *, flag: str, old_flag: str) -> T | None:
    """The value given under ``flag`` or under its old name ``old_flag``; both, with
    different values, is a usage error."""
    if old is None:
        return new
    if new is not None and new != old:
        raise UsageError(f"{old_flag} is the old name of {flag}; give only {flag}")
    return old


def required(value: T | None, *, flag: str) -> T:
    """``value``, or the usage error of a missing required ``flag``."""
    if value is None:
        raise UsageError(f"Missing option '{flag}'.")
    return value
