"""Submission metrics, counted where a job becomes real: when the transaction that stored it
commits.

Counting on commit rather than in each route means every route that stores a job (sweeps,
backtests, walk-forwards, and any added later) is counted the same way, an idempotent replay
(which stores nothing) is not counted, and neither is a job whose transaction rolled back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.observe import Metrics
from tradesweep.services.submit import strategy_type_of
from tradesweep.store import Job

_NEW_JOBS = "tradesweep.new_jobs"


def count_submissions(sessions: sessionmaker[Session], metrics: Metrics) -> None:
    """Call ``metrics.job_submitted`` for each job committed through ``sessions``."""

    @event.listens_for(sessions, "pending_to_persistent")
    def stored(session: Session, instance: Any) -> None:
        if isinstance(instance, Job):
            session.info.setdefault(_NEW_JOBS, []).append(instance)

    @event.listens_for(sessions, "after_commit")
    def committed(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released; the outer transaction may still roll back
        for job in session.info.pop(_NEW_JOBS, []):
            metrics.job_submitted(job.type, ticker=job.ticker, strategy_type=strategy_label(job))

    @event.listens_for(sessions, "after_rollback")
    def rolled_back(session: Session) -> None:
        session.info.pop(_NEW_JOBS, None)


def strategy_label(job: Job) -> str | None:
    """The strategy type as the client sent it (``SMA``), else the short name of the spec's
    strategy."""
    parameters = job.parameters or {}
    sent = (parameters.get("request") or {}).get("strategy_type")
    if sent:
        return str(sent)
    strategy = (parameters.get("spec") or {}).get("strategy")
    return strategy_type_of(str(strategy)) if strategy else None
