"""Per-tenant whsec_ secrets and Standard Webhooks signatures, checked with the reference
library's verifier."""

from __future__ import annotations

import base64
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tradesweep.notify import (
    encode_body,
    ensure_secret,
    generate_secret,
    rotate_secret,
    signed_headers,
)
from tradesweep.store import NotFound, Tenant, TenantRepository
from tradesweep.store.types import utcnow

Sessions = sessionmaker[Session]


def test_a_generated_secret_has_the_standard_form_and_enough_randomness() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert generate_secret() != secret


def test_a_signature_verifies_with_standardwebhooks_and_fails_when_anything_changes() -> None:
    secret, now = generate_secret(), utcnow()
    body = encode_body({"event_type": "sweep.completed", "job_id": "j1"})
    headers = signed_headers(secret, "msg_abc", now, body)
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {
        "event_type": "sweep.completed",
        "job_id": "j1",
    }

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"j1", b"j2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_other"})
    old = signed_headers(secret, "msg_abc", now - timedelta(minutes=10), body)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, old)


def test_the_body_is_the_same_bytes_whatever_the_key_order() -> None:
    assert encode_body({"b": 1, "a": {"d": 2, "c": 3}}) == encode_body(
        {"a": {"c": 3, "d": 2}, "b": 1}
    )


def test_ensure_secret_creates_once_and_rotate_replaces(sessions: Sessions) -> None:
    with sessions.begin() as s:
        tenant = TenantRepository(s).create("acme")
        assert tenant.webhook_secret is None
        first = ensure_secret(s, tenant.id)
        assert first.startswith("whsec_")
        assert ensure_secret(s, tenant.id) == first
    with sessions.begin() as s:
        assert s.get(Tenant, tenant.id, populate_existing=True).webhook_secret == first  # type: ignore[union-attr]
        rotated = rotate_secret(s, tenant.id)
    assert rotated != first
    with sessions() as s:
        assert ensure_secret(s, tenant.id) == rotated


def test_an_unknown_tenant_has_no_secret(sessions: Sessions) -> None:
    with sessions.begin() as s, pytest.raises(NotFound):
        ensure_secret(s, 999_999)
    with sessions.begin() as s, pytest.raises(NotFound):
        rotate_secret(s, 999_999)


def test_concurrent_first_callers_agree_on_one_secret(sessions: Sessions) -> None:
    with sessions.begin() as s:
        tenant_id = TenantRepository(s).create("acme").id
    seen: dict[str, str] = {}

    def second_caller() -> None:
        with sessions.begin() as s:
            seen["second"] = ensure_secret(s, tenant_id)

    with sessions.begin() as first:
        seen["first"] = ensure_secret(first, tenant_id)  # written, not yet committed
        racer = threading.Thread(target=second_caller)
        racer.start()
        time.sleep(0.5)  # the racer reads no secret (PostgreSQL) or waits for the lock (SQLite)
    racer.join(10)
    assert seen["second"] == seen["first"]
