"""tradesweep.jobs: the durable job queue on the database, and the workers that run it.

Workers claim jobs with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a ``BEGIN
IMMEDIATE`` transaction on SQLite), renew it while the compute runs in a child process, and
write results, status, event and webhook outbox row in one transaction that only commits
while they still hold the lease. See docs/jobs.md.

Usage::

    from tradesweep.jobs import Worker
    from tradesweep.store import make_engine, session_factory

    worker = Worker(session_factory(make_engine(url)), concurrency=4)
    worker.run(stop_event)  # until stop_event is set (SIGTERM in ``tradesweep worker``)
"""

from tradesweep.jobs.child import ChildFailure, compute_context
from tradesweep.jobs.claim import ClaimedJob, claim_next
from tradesweep.jobs.lease import Lease, LeaseLost, held_by, hold
from tradesweep.jobs.policy import JobRetryPolicy
from tradesweep.jobs.registration import WorkerIdentity
from tradesweep.jobs.supervisor import (
    Cancelled,
    Completed,
    Ending,
    Failed,
    Released,
    Supervisor,
    Timings,
)
from tradesweep.jobs.worker import Worker

__all__ = [
    "Cancelled",
    "ChildFailure",
    "ClaimedJob",
    "Completed",
    "Ending",
    "Failed",
    "JobRetryPolicy",
    "Lease",
    "LeaseLost",
    "Released",
    "Supervisor",
    "Timings",
    "Worker",
    "WorkerIdentity",
    "claim_next",
    "compute_context",
    "held_by",
    "hold",
]
