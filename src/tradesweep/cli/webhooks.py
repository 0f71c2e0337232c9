"""``tradesweep webhooks ...``: a tenant's signing secret, its default URL, the delivery loop.

``secret`` prints the tenant's ``whsec_...`` secret (receivers verify with it), creating it
the first time; ``--rotate`` replaces it. ``url`` sets (or shows, or ``--clear``s) the URL a
job submitted without its own ``webhook_url`` is announced to. ``deliver`` drains the webhook
outbox: in the foreground until Ctrl-C / SIGTERM, or ``--once`` for what is due now.
``tradesweep serve`` can run the same dispatcher in a thread
(``WebhookDispatcher(...).start(stop_event)``); run this command instead (or as well: several
dispatchers share the outbox safely) when webhooks should be delivered by a process of their
own. See docs/webhooks.md.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from typing import Annotated, Any

import typer

from tradesweep.cli.db import UrlOption, database

app = typer.Typer(
    no_args_is_help=True, help="Webhooks: signing secret, default URL, delivery loop."
)


@app.command()
def secret(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant name.")],
    url: UrlOption = None,
    rotate: Annotated[
        bool,
        typer.Option("--rotate", help="Replace the secret; later attempts use the new one."),
    ] = False,
) -> None:
    """Print TENANT's webhook signing secret (whsec_...), creating it if missing."""
    from tradesweep.notify import ensure_secret, rotate_secret
    from tradesweep.store import NotFound, TenantRepository, session_factory

    with database(url, migrated=True) as engine, session_factory(engine).begin() as session:
        owner = TenantRepository(session).get_by_name(tenant)
        if owner is None:
            raise NotFound(
                f"no tenant {tenant!r}",
                fix=f"create it with `tradesweep keys create --tenant {tenant}`",
                field="tenant",
            )
        value = rotate_secret(session, owner.id) if rotate else ensure_secret(session, owner.id)
    typer.echo(value)
    note = "new secret; receivers must switch to it now" if rotate else "keep it secret"
    typer.echo(
        f"tenant {tenant}: {note}. Verify deliveries with "
        "standardwebhooks.Webhook(secret).verify(body, headers)",
        err=True,
    )


@app.command("url")
def default_url(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant name.")],
    webhook_url: Annotated[
        str | None, typer.Argument(metavar="URL", help="http(s) URL; omit to show it.")
    ] = None,
    url: UrlOption = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the default URL.")] = False,
) -> None:
    """Set TENANT's default webhook URL: jobs submitted without a webhook_url call it."""
    from tradesweep.notify import allow_private_from_env, validate_webhook_url
    from tradesweep.store import NotFound, TenantRepository, session_factory

    if webhook_url is not None and clear:
        raise typer.BadParameter("give a URL or --clear, not both")
    if webhook_url is not None:
        validate_webhook_url(webhook_url, allow_private=allow_private_from_env())
    with database(url, migrated=True) as engine, session_factory(engine).begin() as session:
        owner = TenantRepository(session).get_by_name(tenant)
        if owner is None:
            raise NotFound(
                f"no tenant {tenant!r}",
                fix=f"create it with `tradesweep keys create --tenant {tenant}`",
                field="tenant",
            )
        if webhook_url is not None or clear:
            owner.webhook_url = webhook_url
        current = owner.webhook_url
    typer.echo(current or "(none)")


@app.command()
def deliver(
    url: UrlOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.05, help="Seconds between empty rounds.")
    ] = 1.0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Deliveries per round.")] = 50,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Deliveries sent in parallel.")
    ] = 4,
) -> None:
    """Deliver pending webhooks from the outbox until stopped (Ctrl-C or SIGTERM).

    Loopback and private receivers are refused unless TRADESWEEP_WEBHOOK_ALLOW_PRIVATE=1.
    """
    from tradesweep.notify import WebhookDispatcher
    from tradesweep.observe import configure_logging
    from tradesweep.store import session_factory

    configure_logging()
    with database(url, migrated=True) as engine:
        dispatcher = WebhookDispatcher(session_factory(engine), concurrency=concurrency)
        if once:
            outcomes: Counter[str] = Counter()
            while reports := dispatcher.deliver_due(batch):
                outcomes.update(r.outcome.value for r in reports)
                if len(reports) < batch:
                    break
            summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "nothing due"
            typer.echo(summary)
            return
        stop = threading.Event()
        _stop_on_signals(stop)
        dispatcher.run(stop, poll_interval=poll_interval, batch=batch)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
