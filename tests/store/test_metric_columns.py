"""The stored rows of the metric table and the metric columns of ``sweep_results``, in the
models and in a migrated database, are the same both ways, with the type the unit asks for."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import DateTime, Float, Integer, String, inspect

from tradesweep.metrics import KEYS
from tradesweep.metrics.table import METRICS, Metric
from tradesweep.store import SweepResultRow, make_engine, upgrade_database
from tradesweep.store.models import METRIC_COLUMNS, RESULT_FIELDS

STORED = {m.key: m for m in METRICS if m.stored}


def _column_type(metric: Metric) -> type:
    return {"date": DateTime, "count": Integer, "text": String}.get(metric.unit, Float)


def test_every_stored_metric_has_a_model_column_and_every_metric_column_a_row() -> None:
    columns = SweepResultRow.__table__.columns
    metric_columns = [c.name for c in columns if c.name not in RESULT_FIELDS]
    assert set(metric_columns) == set(STORED), "see docs/metrics.md: Adding a metric"
    for name in metric_columns:
        column = columns[name]
        sql_type = getattr(column.type, "impl", column.type)  # UTCDateTime decorates DateTime
        assert isinstance(sql_type, _column_type(STORED[name])), name
        assert column.nullable, name


def test_the_metric_columns_are_the_stored_keys_in_table_order() -> None:
    assert tuple(k for k in KEYS if k in STORED) == METRIC_COLUMNS


def test_every_stored_metric_has_a_column_after_the_migrations(
    fresh_database: Callable[[str], str],
) -> None:
    url = fresh_database("sqlite")
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = {c["name"] for c in inspect(conn).get_columns("sweep_results")}
    finally:
        engine.dispose()
    assert names - set(RESULT_FIELDS) == set(STORED), "add an Alembic migration for the column"
