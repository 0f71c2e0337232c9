"""``tradesweep keys ...``: issue, list, revoke and rotate API keys. A key is printed once, at
creation; the database keeps only its sha256 and its recognisable prefix. A revoked key, and
every browser session made with it, is refused from the next request on."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tradesweep.cli.db import UrlOption, database
from tradesweep.cli.tables import fit, wide_console

app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke, rotate.")
PrefixArgument = Annotated[
    str, typer.Argument(help="The key's prefix, as `tradesweep keys list` shows it (ts_xxxxxxxx).")
]


@app.command()
def create(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant name; created if missing.")],
    url: UrlOption = None,
) -> None:
    """Issue a new API key for TENANT and print it (the only time it is shown)."""
    from tradesweep.store import ApiKeyRepository, TenantRepository, session_factory

    with database(url, migrated=True) as engine, session_factory(engine).begin() as session:
        owner = TenantRepository(session).get_or_create(tenant)
        issued = ApiKeyRepository(session).create(owner)
    typer.echo(issued.key)
    typer.echo(
        f"tenant {tenant}, prefix {issued.prefix}: store the key now, it is not kept", err=True
    )


@app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's keys.")] = None,
    url: UrlOption = None,
) -> None:
    """List keys by prefix (never the secret), with tenant, creation and revocation."""
    from tradesweep.store import ApiKeyRepository, NotFound, TenantRepository, session_factory

    with database(url, migrated=True) as engine, session_factory(engine)() as session:
        tenants = TenantRepository(session)
        owner = None
        if tenant is not None:
            owner = tenants.get_by_name(tenant)
            if owner is None:
                raise NotFound(f"no tenant {tenant!r}", fix="see `tradesweep keys list`")
        names = {t.id: t.name for t in tenants.list()}
        keys = ApiKeyRepository(session).list(owner)
    table = Table(title="API keys")
    for header in ("prefix", "tenant", "created", "revoked"):
        table.add_column(header)
    for key in keys:
        table.add_row(
            key.prefix,
            names[key.tenant_id],
            key.created_at.strftime("%Y-%m-%d %H:%M:%SZ"),
            key.revoked_at.strftime("%Y-%m-%d %H:%M:%SZ") if key.revoked_at else "-",
        )
    console = wide_console()
    console.print(fit(table, console.width))


@app.command()
def revoke(prefix: PrefixArgument, url: UrlOption = None) -> None:
    """Revoke the key PREFIX: it and its browser sessions get 401 from now on.

    Example: tradesweep keys revoke ts_k3v9x2ab
    """
    from tradesweep.store import ApiKeyRepository, session_factory

    with database(url, migrated=True) as engine, session_factory(engine).begin() as session:
        revoked = ApiKeyRepository(session).revoke(prefix)
    state = "revoked" if revoked.now else "already revoked"
    typer.echo(f"{prefix} {state} at {revoked.at:%Y-%m-%d %H:%M:%SZ}")


@app.command()
def rotate(prefix: PrefixArgument, url: UrlOption = None) -> None:
    """Revoke the key PREFIX and print a new key for its tenant (the only time it is shown).

    Example: NEW_KEY=$(tradesweep keys rotate ts_k3v9x2ab)
    """
    from tradesweep.store import ApiKeyRepository, session_factory

    with database(url, migrated=True) as engine, session_factory(engine).begin() as session:
        issued = ApiKeyRepository(session).rotate(prefix)
        tenant = issued.tenant.name
    typer.echo(issued.key)
    typer.echo(
        f"{prefix} revoked; new key for tenant {tenant}, prefix "
        f"{issued.prefix}: store it now, it is not kept",
        err=True,
    )
