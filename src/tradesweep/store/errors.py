"""Domain errors raised by the store. The API maps ``code`` to a 4xx; the CLI exits 2."""

from __future__ import annotations

from tradesweep.errors import TradesweepError


class IdempotencyConflict(TradesweepError):
    """An idempotency key reused with a different request body (answer 409/422)."""

    code = "idempotency_conflict"


class NotFound(TradesweepError):
    """A row that does not exist, or belongs to another tenant."""

    code = "not_found"


class InvalidTenant(TradesweepError):
    """A tenant name that is empty, too long or has characters outside ``[A-Za-z0-9._-]``."""

    code = "invalid_tenant"
