"""The payloads of a job's events (``job_events``), one builder per kind.

The API streams them over SSE as they are; the shapes are part of the contract with it
(docs/jobs.md, "Events").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def started(attempt: int, max_attempts: int, at: datetime) -> dict[str, Any]:
    return {
        "percent": 0,
        "message": f"Started (attempt {attempt} of {max_attempts})",
        "timestamp": at.isoformat(),
    }


def progress(done: int, total: int, at: datetime, phase: str = "evaluating") -> dict[str, Any]:
    """``Processing 5/10`` while evaluating; past it, the phase that runs now (percent 100:
    every combination is evaluated)."""
    return {
        "percent": percent(done, total),
        "message": _PHASE_MESSAGES.get(phase, "Processing {done}/{total}").format(
            done=done, total=total
        ),
        "phase": phase,
        "timestamp": at.isoformat(),
    }


_PHASE_MESSAGES = {
    "diagnostics": "Diagnostics: deflated Sharpe, stability and PBO of {total:,} combinations",
    "preparing results": "Preparing {total:,} results",
    "storing results": "Storing the results",
}


def completed(result: dict[str, Any] | None, at: datetime) -> dict[str, Any]:
    payload: dict[str, Any] = {"done": True, "status": "completed"}
    for key in ("sweep_run_id", "backtest_run_id"):
        if result and key in result:
            payload[key] = result[key]
    payload["timestamp"] = at.isoformat()
    return payload


def failed(reason: str, at: datetime) -> dict[str, Any]:
    return {"error": True, "message": reason, "timestamp": at.isoformat()}


def retry(attempt: int, reason: str, run_after: datetime, at: datetime) -> dict[str, Any]:
    return {
        "attempt": attempt,
        "message": reason,
        "run_after": run_after.isoformat(),
        "timestamp": at.isoformat(),
    }


def cancelled(at: datetime) -> dict[str, Any]:
    return {"done": True, "status": "cancelled", "timestamp": at.isoformat()}


def percent(done: int, total: int) -> float:
    """``done / total`` in percent, one decimal, within 0..100 (0 for an empty total)."""
    if total <= 0:
        return 0.0
    return round(min(max(done / total, 0.0), 1.0) * 100.0, 1)
