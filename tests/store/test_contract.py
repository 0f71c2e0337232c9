"""One contract, every backend: each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.engine.enums import trade_dt
from tradesweep.metrics import KEYS
from tradesweep.store import (
    ApiKey,
    ApiKeyRepository,
    BacktestRepository,
    IdempotencyConflict,
    Job,
    JobRepository,
    JobStatus,
    JobType,
    NotFound,
    SweepResultRepository,
    Tenant,
    TenantRepository,
)

Sessions = sessionmaker[Session]


def _tenant(sessions: Sessions, name: str = "acme") -> Tenant:
    with sessions.begin() as s:
        return TenantRepository(s).create(name)


# tenants and keys


def test_tenant_create_and_get_by_name(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions() as s:
        repo = TenantRepository(s)
        assert repo.get_by_name("acme").id == tenant.id
        assert repo.get_by_name("nobody") is None
        assert repo.get_or_create("acme").id == tenant.id
        assert tenant.created_at.tzinfo is not None


def test_api_key_is_shown_once_and_only_its_hash_is_stored(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        issued = ApiKeyRepository(s).create(tenant)
    assert issued.key.startswith(issued.prefix + "_")
    assert len(issued.prefix) == 11 and issued.prefix.startswith("ts_")
    assert len(issued.key) - len(issued.prefix) - 1 >= 22  # >= 128 bits urlsafe base64
    with sessions() as s:
        (stored,) = s.scalars(select(ApiKey)).all()
        assert stored.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
        dump = s.execute(text("SELECT * FROM api_keys")).all()
        assert issued.key not in repr(dump)


def test_api_key_verify_and_revoke(sessions: Sessions) -> None:
    acme, other = _tenant(sessions, "acme"), _tenant(sessions, "other")
    with sessions.begin() as s:
        key = ApiKeyRepository(s).create(acme).key
        other_key = ApiKeyRepository(s).create(other).key
    with sessions() as s:
        repo = ApiKeyRepository(s)
        assert repo.verify(key).id == acme.id
        assert repo.verify(other_key).id == other.id
        assert repo.verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None  # wrong secret
        assert repo.verify(key[:12]) is None
        assert repo.verify("") is None
        assert repo.verify("nope") is None
    first_time = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with sessions.begin() as s:
        first = ApiKeyRepository(s).revoke(key[:11], at=first_time)
        assert (first.now, first.at, first.api_key.prefix) == (True, first_time, key[:11])
    with sessions.begin() as s:
        again = ApiKeyRepository(s).revoke(key[:11])  # keeps its first time, says so
        assert (again.now, again.at.replace(tzinfo=UTC)) == (False, first_time)
    with sessions() as s:
        repo = ApiKeyRepository(s)
        assert repo.verify(key) is None
        assert repo.verify(other_key).id == other.id
        assert [k.revoked_at is not None for k in repo.list(acme)] == [True]
        with pytest.raises(NotFound):
            repo.revoke("ts_missing0")


def test_api_key_verify_compares_hashes_in_constant_time(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tradesweep.store.tenants as tenants

    tenant = _tenant(sessions)
    with sessions.begin() as s:
        key = ApiKeyRepository(s).create(tenant).key
    seen: list[tuple[str, str]] = []
    real = tenants.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tenants.hmac, "compare_digest", spy)
    with sessions() as s:
        assert ApiKeyRepository(s).verify(key) is not None
    assert seen and all(len(a) == len(b) == 64 for a, b in seen)


# jobs


def test_job_defaults_and_json_round_trip(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    params = {"fast": [5, 10], "nested": {"a": None, "b": 1.5, "s": "é"}, "flag": True}
    with sessions.begin() as s:
        job = JobRepository(s).create(tenant.id, JobType.SWEEP, params, ticker="GOOGL").job
    with sessions() as s:
        got = JobRepository(s).get(tenant.id, job.id)
        assert got.parameters == params
        assert got.status is JobStatus.QUEUED and got.type is JobType.SWEEP
        assert (got.attempts, got.max_attempts, got.timeout_seconds) == (0, 3, 3600)
        assert got.cancel_requested is False
        assert got.created_at.tzinfo == UTC and got.run_after.tzinfo == UTC
        assert abs(got.created_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_timestamps_are_utc_aware_and_naive_is_refused(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        job = JobRepository(s).create(tenant.id, "backtest", {}).job
        plus2 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
        job.lease_expires_at = plus2
    with sessions() as s:
        got = JobRepository(s).get(tenant.id, job.id)
        assert got.lease_expires_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
        assert got.lease_expires_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"), sessions.begin() as s:
        s.get(Job, job.id).started_at = datetime(2024, 1, 1)


def test_idempotent_create_returns_the_original_job(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        first = JobRepository(s).create(tenant.id, "sweep", {"a": 1}, idempotency_key="k1")
    with sessions.begin() as s:
        again = JobRepository(s).create(tenant.id, "sweep", {"a": 1}, idempotency_key="k1")
    assert first.created and not again.created
    assert again.job.id == first.job.id
    with sessions() as s:
        assert s.scalar(text("SELECT count(*) FROM jobs")) == 1


def test_same_idempotency_key_with_another_body_conflicts(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        JobRepository(s).create(tenant.id, "sweep", {"a": 1}, idempotency_key="k1")
    with pytest.raises(IdempotencyConflict) as err, sessions.begin() as s:
        JobRepository(s).create(tenant.id, "sweep", {"a": 2}, idempotency_key="k1")
    assert err.value.code == "idempotency_conflict"
    assert err.value.to_dict()["details"]["idempotency_key"] == "k1"


def test_idempotency_keys_are_per_tenant(sessions: Sessions) -> None:
    acme, other = _tenant(sessions, "acme"), _tenant(sessions, "other")
    with sessions.begin() as s:
        a = JobRepository(s).create(acme.id, "sweep", {"a": 1}, idempotency_key="k").job
        b = JobRepository(s).create(other.id, "sweep", {"a": 2}, idempotency_key="k").job
    assert a.id != b.id


def test_concurrent_duplicate_create_loses_the_race_gracefully(sessions: Sessions) -> None:
    """The second writer misses the first in its pre-check and hits the unique index."""
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        first = JobRepository(s).create(tenant.id, "sweep", {"a": 1}, idempotency_key="k").job
    with sessions.begin() as s:
        repo = JobRepository(s)
        real, calls = repo._by_idempotency_key, []

        def miss_first(*args: object) -> Job | None:
            calls.append(args)
            return None if len(calls) == 1 else real(*args)  # type: ignore[arg-type]

        repo._by_idempotency_key = miss_first  # type: ignore[method-assign]
        made = repo.create(tenant.id, "sweep", {"a": 1}, idempotency_key="k")
        assert not made.created
    assert made.job.id == first.id


def test_get_hides_other_tenants_jobs(sessions: Sessions) -> None:
    acme, other = _tenant(sessions, "acme"), _tenant(sessions, "other")
    with sessions.begin() as s:
        job = JobRepository(s).create(acme.id, "sweep", {}).job
    with sessions() as s:
        assert JobRepository(s).get(acme.id, job.id) is not None
        assert JobRepository(s).get(other.id, job.id) is None
        assert JobRepository(s).list(other.id).items == []


def test_list_filters_and_cursor_pages(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        repo = JobRepository(s)
        made = [
            repo.create(
                tenant.id, "sweep" if i % 2 else "backtest", {"i": i}, ticker=f"T{i % 3}"
            ).job
            for i in range(7)
        ]
        made[0].status = JobStatus.COMPLETED
    with sessions() as s:
        repo = JobRepository(s)
        seen: list[str] = []
        cursor = None
        while True:
            page = repo.list(tenant.id, limit=3, cursor=cursor)
            seen += [j.id for j in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [j.id for j in reversed(made)]  # newest first, nothing twice
        assert {j.id for j in repo.list(tenant.id, type=JobType.SWEEP).items} == {
            j.id for j in made if j.type is JobType.SWEEP
        }
        assert [j.id for j in repo.list(tenant.id, status=JobStatus.COMPLETED).items] == [
            made[0].id
        ]
        assert {j.id for j in repo.list(tenant.id, ticker="T1").items} == {
            made[1].id,
            made[4].id,
        }


def test_events_are_numbered_per_job_and_resumable(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with sessions.begin() as s:
        repo = JobRepository(s)
        a = repo.create(tenant.id, "sweep", {"a": 1}).job
        b = repo.create(tenant.id, "sweep", {"b": 1}).job
    for i in range(5):
        with sessions.begin() as s:
            JobRepository(s).append_event(a.id, "progress", {"done": i})
            if i % 2 == 0:
                JobRepository(s).append_event(b.id, "progress", {"done": i})
    with sessions() as s:
        repo = JobRepository(s)
        assert [e.seq for e in repo.events_after(a.id)] == [1, 2, 3, 4, 5]
        assert [e.payload["done"] for e in repo.events_after(a.id, 3)] == [3, 4]
        assert [e.seq for e in repo.events_after(b.id)] == [1, 2, 3]
        assert repo.events_after(a.id, 5) == []
        with pytest.raises(NotFound):
            repo.append_event("missing", "x", {})


# sweep results


def _metrics(i: int) -> dict[str, object]:
    m: dict[str, object] = {key: float(i) for key in KEYS}
    m.update(
        start="2020-01-01T00:00:00+00:00",
        end="2021-01-01T00:00:00+00:00",
        bars=250,
        total_trades=i,
        avg_trade_duration="3 days",
        stop_and_target_same_bar=0,
        sharpe_ratio=None,
    )
    return m


def test_bulk_write_of_20000_rows_is_one_fast_transaction(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    n = 20_000
    rows = [
        {
            "grid_index": i,
            "params": {"fast": i % 50, "slow": i // 50},
            "metrics": _metrics(i),
            "score": float(i % 997),
            "rank": i + 1,
        }
        for i in range(n)
    ]
    started = time.perf_counter()
    with sessions.begin() as s:
        run = SweepResultRepository(s).write(
            tenant_id=tenant.id, ticker="GOOGL", strategy="sma_cross", spec={"k": 1}, rows=rows,
            grid_combinations=n, valid_combinations=n, evaluated=n,
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"bulk write took {elapsed:.1f}s"
    with sessions() as s:
        repo = SweepResultRepository(s)
        assert repo.count(run.id) == n
        best = repo.best(run.id, "GOOGL", limit=3)
        assert [r.score for r in best] == [996.0, 996.0, 996.0]
        row = best[0]
        assert row.params == {"fast": row.grid_index % 50, "slow": row.grid_index // 50}
        assert row.start == datetime(2020, 1, 1, tzinfo=UTC)
        assert row.sharpe_ratio is None and row.avg_trade_duration == "3 days"


def test_a_failed_bulk_write_leaves_nothing(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    rows = [{"params": {"x": 1}, "metrics": {}, "score": 1.0, "rank": 1}] * 3
    rows = [*rows, {"params": {"x": 2}, "metrics": {"not_a_metric": 1}, "score": 0.0}]
    with pytest.raises(ValueError, match="not_a_metric"), sessions.begin() as s:
        SweepResultRepository(s).write(
            tenant_id=tenant.id, ticker="X", strategy="s", spec={}, rows=rows
        )
    with sessions() as s:
        assert s.scalar(text("SELECT count(*) FROM sweep_runs")) == 0
        assert s.scalar(text("SELECT count(*) FROM sweep_results")) == 0


def test_best_sorts_by_score_desc_with_nulls_last(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    scores = [None, 0.5, float("nan"), 2.0, -1.0, None, 1.0]
    rows = [
        {"params": {"i": i}, "metrics": {}, "score": sc, "rank": None, "ticker": t}
        for i, sc in enumerate(scores)
        for t in ("AAA", "BBB")
    ]
    with sessions.begin() as s:
        run = SweepResultRepository(s).write(
            tenant_id=tenant.id, ticker="AAA", strategy="s", spec={}, rows=rows
        )
    with sessions() as s:
        repo = SweepResultRepository(s)
        best = repo.best(run.id, "AAA", limit=10)
        assert [r.score for r in best] == [2.0, 1.0, 0.5, -1.0, None, None, None]
        assert {r.ticker for r in best} == {"AAA"}
        assert len(repo.best(run.id, limit=100)) == 14
        assert [r.score for r in repo.best(run.id, "BBB", limit=2)] == [2.0, 1.0]


def test_result_pages_cover_every_row_once(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    rows = [{"params": {"i": i}, "metrics": {}, "score": i, "rank": i + 1} for i in range(25)]
    with sessions.begin() as s:
        run = SweepResultRepository(s).write(
            tenant_id=tenant.id, ticker="X", strategy="s", spec={}, rows=rows
        )
    with sessions() as s:
        repo = SweepResultRepository(s)
        got, cursor = [], None
        while True:
            page = repo.page(run.id, limit=10, cursor=cursor)
            got += [r.params["i"] for r in page.items]
            if (cursor := page.next_cursor) is None:
                break
        assert got == list(range(25))


def test_sweep_run_is_tenant_scoped_and_keeps_its_json(sessions: Sessions) -> None:
    acme, other = _tenant(sessions, "acme"), _tenant(sessions, "other")
    diagnostics = {"pbo": None, "deflated_sharpe": 0.93, "notes": ["a", "b"]}
    with sessions.begin() as s:
        job = JobRepository(s).create(acme.id, "sweep", {}).job
        run = SweepResultRepository(s).write(
            tenant_id=acme.id, job_id=job.id, ticker="X", strategy="s", spec={"grid": [1, 2]},
            rows=[], diagnostics=diagnostics, spec_id="abc",
        )  # fmt: skip
    with sessions() as s:
        repo = SweepResultRepository(s)
        assert repo.get_run(other.id, run.id) is None
        got = repo.get_run(acme.id, run.id)
        assert got.diagnostics == diagnostics and got.spec == {"grid": [1, 2]}
        assert [r.id for r in repo.runs_for_job(job.id)] == [run.id]


def test_nan_never_reaches_json_columns(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    with pytest.raises(Exception, match=r"(?i)nan|out of range"), sessions.begin() as s:
        JobRepository(s).create(tenant.id, "sweep", {"x": float("nan")})


# backtests


def test_backtest_run_and_trades_round_trip(sessions: Sessions) -> None:
    tenant = _tenant(sessions)
    index = pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")
    trades = np.zeros(2, dtype=trade_dt)
    trades["entry_idx"], trades["exit_idx"] = [1, 5], [3, 9]
    trades["side"], trades["units"], trades["pnl"] = [1, -1], [2.5, 1.0], [10.0, -3.25]
    trades["bars_held"], trades["exit_reason"] = [2, 4], [0, 5]
    metrics = {"total_return_pct": 1.5, "sharpe_ratio": None}
    with sessions.begin() as s:
        run = BacktestRepository(s).write(
            tenant_id=tenant.id, spec={"strategy": "sma"}, metrics=metrics, trades=trades,
            index=index, spec_id="h1", ticker="GOOGL", strategy="sma_cross",
        )  # fmt: skip
    other = _tenant(sessions, "other")
    with sessions() as s:
        repo = BacktestRepository(s)
        assert repo.get(other.id, run.id) is None
        got = repo.get(tenant.id, run.id)
        assert got.metrics == metrics and got.spec == {"strategy": "sma"}
        stored = repo.trades(run.id)
        assert [t.seq for t in stored] == [0, 1]
        for name in trade_dt.names:
            assert [getattr(t, name) for t in stored] == trades[name].tolist()
        assert stored[1].entry_time == datetime(2024, 1, 6, tzinfo=UTC)
        assert stored[1].exit_time.tzinfo == UTC
