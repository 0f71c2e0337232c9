"""Notifications: signed webhooks delivered from the outbox (docs/webhooks.md).

Typical use (a process that delivers webhooks)::

    dispatcher = WebhookDispatcher(session_factory(engine), metrics=metrics)
    stop = threading.Event()
    dispatcher.start(stop)  # or dispatcher.run(stop) in the foreground

Jobs queue their webhook with ``OutboxRepository.enqueue_for_job`` in the transaction that
writes their final state; this package signs, sends, retries and records.
"""

from tradesweep.notify.breaker import BreakerState, CircuitBreaker
from tradesweep.notify.dispatcher import (
    DEFAULT_LEASE,
    DeliveryOutcome,
    DeliveryReport,
    WebhookDispatcher,
)
from tradesweep.notify.policy import DEFAULT_SCHEDULE, DeliveryRetryPolicy
from tradesweep.notify.signing import (
    encode_body,
    ensure_secret,
    generate_secret,
    rotate_secret,
    signed_headers,
)
from tradesweep.notify.ssrf import (
    ALLOW_PRIVATE_ENV,
    Destination,
    UnsafeWebhookURL,
    address_problem,
    allow_private_from_env,
    resolve_destination,
    system_resolver,
    validate_webhook_url,
)
from tradesweep.notify.transport import HttpTransport, SendResult, Transport, build_request
from tradesweep.notify.views import delivery_view

__all__ = [
    "ALLOW_PRIVATE_ENV",
    "DEFAULT_LEASE",
    "DEFAULT_SCHEDULE",
    "BreakerState",
    "CircuitBreaker",
    "DeliveryOutcome",
    "DeliveryReport",
    "DeliveryRetryPolicy",
    "Destination",
    "HttpTransport",
    "SendResult",
    "Transport",
    "UnsafeWebhookURL",
    "WebhookDispatcher",
    "address_problem",
    "allow_private_from_env",
    "build_request",
    "delivery_view",
    "encode_body",
    "ensure_secret",
    "generate_secret",
    "resolve_destination",
    "rotate_secret",
    "signed_headers",
    "system_resolver",
    "validate_webhook_url",
]
