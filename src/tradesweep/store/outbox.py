"""The webhook outbox: a job's final state and the webhook it owes go in one transaction.

``tradesweep.jobs`` calls :meth:`OutboxRepository.enqueue_for_job` inside the transaction that
writes the job's final status; ``tradesweep.notify`` delivers the pending rows, signs them,
retries and records every attempt. A crash between the two loses nothing: the row is there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradesweep.store.models import Job, JobStatus, WebhookAttempt, WebhookDelivery
from tradesweep.store.types import utcnow

_EVENT_STATUS = {
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}


def new_webhook_id() -> str:
    """A Standard Webhooks message id (``msg_`` + 32 hex chars), fixed for every retry."""
    return f"msg_{uuid.uuid4().hex}"


def job_webhook_payload(job: Job, *, at: datetime | None = None) -> dict[str, Any]:
    """The JSON body announcing a finished job (shapes in docs/webhooks.md).

    ``event_type`` is ``<job type>.<completed|failed|cancelled>``: ``sweep.completed``,
    ``backtest.failed``, ``walkforward.completed``...
    """
    status = JobStatus(job.status)
    if status not in _EVENT_STATUS:
        raise ValueError(f"job {job.id} is {status.value}; only a finished job has a webhook")
    timestamp = (at or job.completed_at or utcnow()).isoformat()
    event = f"{job.type.value}.{_EVENT_STATUS[status]}"
    payload: dict[str, Any] = {
        "event_type": event,
        "job_id": job.id,
        "status": status.value,
        "ticker": job.ticker,
        "timestamp": timestamp,
    }
    result = job.result or {}
    if status is JobStatus.COMPLETED:
        metrics = job.metrics or {}
        result_data: dict[str, Any] = {
            "execution_time_seconds": metrics.get("duration_seconds"),
            "completed_at": timestamp,
        }
        if "sweep_run_id" in result:
            payload["sweep_run_id"] = result["sweep_run_id"]
            result_data["sweep_run_id"] = result["sweep_run_id"]
            result_data["total_combinations"] = result.get("total_combinations")
        if "backtest_run_id" in result:
            payload["backtest_run_id"] = result["backtest_run_id"]
            result_data["backtest_run_id"] = result["backtest_run_id"]
        payload["result_data"] = result_data
    elif status is JobStatus.FAILED:
        payload["error_message"] = job.error or "failed"
    return payload


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue_for_job(self, job: Job) -> WebhookDelivery | None:
        """Queue the finished job's webhook when it has a ``webhook_url``, in this transaction."""
        if not job.webhook_url:
            return None
        payload = job_webhook_payload(job)
        delivery = WebhookDelivery(
            id=new_webhook_id(),
            job_id=job.id,
            tenant_id=job.tenant_id,
            url=job.webhook_url,
            event_type=payload["event_type"],
            payload=payload,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
        self.session.add(delivery)
        self.session.flush()
        return delivery

    def for_job(self, job_id: str) -> list[WebhookDelivery]:
        return list(
            self.session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.job_id == job_id)
                .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            )
        )

    def attempts(self, delivery_id: str) -> list[WebhookAttempt]:
        return list(
            self.session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.attempt)
            )
        )
