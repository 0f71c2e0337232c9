"""The packaged migrations are the schema: they must build exactly what the models describe."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tradesweep.engine.enums import trade_dt
from tradesweep.metrics import KEYS
from tradesweep.store import (
    Base,
    current_revision,
    head_revision,
    make_engine,
    upgrade_database,
)
from tradesweep.store.models import METRIC_COLUMNS, TRADE_FIELDS


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrated_schema_matches_the_models(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database(backend)
    assert current_revision(url) is None
    assert upgrade_database(url) == head_revision()
    assert upgrade_database(url) == head_revision()  # idempotent
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert set(inspect(conn).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_every_metric_key_has_a_typed_column() -> None:
    assert METRIC_COLUMNS == KEYS


def test_every_trade_field_has_a_column() -> None:
    assert trade_dt.names == TRADE_FIELDS


def test_migrations_ship_inside_the_package() -> None:
    from tradesweep.store.migrate import MIGRATIONS_DIR

    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert head_revision() == "0005"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0003_adds_the_tenant_webhook_url_and_downgrades(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    from alembic import command
    from sqlalchemy import text

    from tradesweep.store.migrate import alembic_config

    url = fresh_database(backend)
    upgrade_database(url, "0002")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO tenants (name, created_at) VALUES ('acme', :t)"),
                {"t": "2026-01-01 00:00:00"},
            )
        assert upgrade_database(engine, "0003") == "0003"
        with engine.begin() as conn:
            conn.execute(text("UPDATE tenants SET webhook_url = 'https://example.com/h'"))
            row = conn.execute(text("SELECT name, webhook_url FROM tenants")).one()
        assert tuple(row) == ("acme", "https://example.com/h")
        command.downgrade(alembic_config(engine), "0002")
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("tenants")}
            assert "webhook_url" not in columns
            assert conn.execute(text("SELECT name FROM tenants")).scalar_one() == "acme"
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0004_adds_paper_candles_and_downgrades(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    from alembic import command

    from tradesweep.store.migrate import alembic_config

    url = fresh_database(backend)
    upgrade_database(url, "0003")
    engine = make_engine(url)
    try:
        assert upgrade_database(engine, "0004") == "0004"
        with engine.connect() as conn:
            unique = inspect(conn).get_unique_constraints("paper_candles")
        assert [u["column_names"] for u in unique] == [["symbol", "timeframe", "time"]]
        command.downgrade(alembic_config(engine), "0003")
        with engine.connect() as conn:
            assert "paper_candles" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()


PAPER_TABLES = {
    "paper_sessions",
    "paper_signals",
    "paper_orders",
    "paper_trades",
    "paper_positions",
    "paper_snapshots",
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0005_adds_the_paper_session_tables_and_downgrades(
    backend: str, fresh_database: Callable[[str], str]
) -> None:
    from alembic import command

    from tradesweep.store.migrate import alembic_config

    url = fresh_database(backend)
    upgrade_database(url, "0004")
    engine = make_engine(url)
    try:
        assert upgrade_database(engine, "0005") == "0005"
        with engine.connect() as conn:
            inspector = inspect(conn)
            assert set(inspector.get_table_names()) >= PAPER_TABLES
            unique = {
                table: [u["column_names"] for u in inspector.get_unique_constraints(table)]
                for table in ("paper_positions", "paper_snapshots")
            }
            order_key = inspector.get_pk_constraint("paper_orders")["constrained_columns"]
        assert unique == {
            "paper_positions": [["session_id", "leg"]],
            "paper_snapshots": [["session_id", "time"]],
        }
        assert order_key == ["id"]
        command.downgrade(alembic_config(engine), "0004")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        assert not tables & PAPER_TABLES
        assert "paper_candles" in tables
    finally:
        engine.dispose()
