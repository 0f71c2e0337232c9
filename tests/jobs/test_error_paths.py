"""A job's error is shown to its tenant (``GET /api/v1/jobs/{id}``, webhooks), so it names
files by their name only, never by their server path; the worker's log keeps the full text.
SQLite and PostgreSQL, a real worker and compute process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradesweep.jobs.supervisor import public_reason
from tradesweep.store import JobStatus


def test_a_failed_job_names_the_missing_file_not_its_folder(
    tmp_path: Path, make_job, read_job, run_worker, wait
) -> None:
    gone = tmp_path / "stored" / "strategies" / "gone.yaml"
    job_id = make_job("sweep", {"data": "GOOGL", "strategy": str(gone), "ranges": {}})
    with run_worker():
        job = wait(lambda: (j := read_job(job_id)).status is JobStatus.FAILED and j, 60, "a fail")
    assert "gone.yaml" in job.error
    assert str(tmp_path) not in job.error and "/stored/" not in job.error, job.error


@pytest.mark.parametrize(
    ("reason", "public"),
    [
        ("FileNotFoundError: [Errno 2] No such file: '/srv/data/GOOGL.csv'",
         "FileNotFoundError: [Errno 2] No such file: 'GOOGL.csv'"),
        ("StrategyError: file /a/b/c.yaml does not exist (check /a/b)",
         "StrategyError: file c.yaml does not exist (check b)"),
        ("see https://example.com/x/y and 10/20/30", "see https://example.com/x/y and 10/20/30"),
        ("ParameterError: fast 5 > slow 3", "ParameterError: fast 5 > slow 3"),
    ],
)  # fmt: skip
def test_public_reason_keeps_only_the_names(reason: str, public: str) -> None:
    assert public_reason(reason) == public
