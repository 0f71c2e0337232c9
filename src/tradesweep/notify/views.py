"""What a delivery looks like to its tenant (``GET /api/v1/jobs/{id}/deliveries``).

Status codes and short error texts only: response bodies are never read past a few KB, never
stored and so never shown; refusals by the SSRF guard never name the addresses a host resolved
to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tradesweep.store import DeliveryStatus, WebhookAttempt, WebhookDelivery


def delivery_view(delivery: WebhookDelivery, attempts: Sequence[WebhookAttempt]) -> dict[str, Any]:
    """A JSON-able dict: the delivery, its state and every attempt, oldest first."""
    return {
        "webhook_id": delivery.id,
        "job_id": delivery.job_id,
        "url": delivery.url,
        "event_type": delivery.event_type,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": (
            delivery.next_attempt_at.isoformat()
            if delivery.status is DeliveryStatus.PENDING
            else None
        ),
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "attempt_log": [
            {
                "attempt": a.attempt,
                "attempted_at": a.attempted_at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
    }
