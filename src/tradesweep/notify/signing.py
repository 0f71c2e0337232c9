"""Standard Webhooks signing with a per-tenant secret.

Each tenant has one secret in the standard form ``whsec_`` + base64 of 32 random bytes, kept in
``tenants.webhook_secret`` and created the first time it is needed (its first webhook, or
``tradesweep webhooks secret``). Every request carries the three Standard Webhooks headers:

- ``webhook-id``: the delivery's ``msg_...`` id, the same on every retry (dedupe on it);
- ``webhook-timestamp``: seconds since the epoch when this attempt was signed;
- ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``.

Receivers verify with any Standard Webhooks library, e.g. Python's
``standardwebhooks.Webhook(secret).verify(body, headers)``.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from tradesweep.store import NotFound, Tenant

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "tradesweep-webhooks/1"


def generate_secret() -> str:
    """A new ``whsec_...`` secret: 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def ensure_secret(session: Session, tenant_id: int) -> str:
    """The tenant's secret, created (once, even under concurrent callers) when missing."""
    current = session.scalar(select(Tenant.webhook_secret).where(Tenant.id == tenant_id))
    if current:
        return current
    # Conditional on still being empty: two first callers agree on the one that won.
    session.execute(
        update(Tenant)
        .where(Tenant.id == tenant_id, Tenant.webhook_secret.is_(None))
        .values(webhook_secret=generate_secret())
        .execution_options(synchronize_session=False)
    )
    stored = session.scalar(select(Tenant.webhook_secret).where(Tenant.id == tenant_id))
    if not stored:
        raise NotFound(f"no tenant with id {tenant_id}", field="tenant_id")
    return stored


def rotate_secret(session: Session, tenant_id: int) -> str:
    """Replace the tenant's secret; every later attempt, retries included, uses the new one."""
    secret = generate_secret()
    changed = session.scalar(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(webhook_secret=secret)
        .returning(Tenant.id)
        .execution_options(synchronize_session=False)
    )
    if changed is None:
        raise NotFound(f"no tenant with id {tenant_id}", field="tenant_id")
    return secret


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact JSON with sorted keys, so every retry sends
    the same body whatever order the database returns the keys in (JSONB reorders them)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def signed_headers(
    secret: str, webhook_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers (plus content type and user agent) for one attempt."""
    signature = Webhook(secret).sign(webhook_id, timestamp, body.decode())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
