"""Schemathesis hooks for ``tests/api/schemathesis.toml``: what the OpenAPI schema cannot say.

- A generated ticker that fits the schema (3-20 characters) is replaced by a registered one,
  and generated ``fast_range``/``slow_range`` pairs are ordered fast below slow where they
  can be, so schema-valid requests reach the code behind those rules.
- :func:`schema_valid_request_accepted` replaces schemathesis' ``positive_data_acceptance``:
  a schema-valid request must not be refused with 400, 415 or 422, unless every error it
  names is one of :data:`UNSTATED_RULES`, the rules a JSON Schema cannot state (cross-field
  rules and what depends on stored data; the OpenAPI descriptions name them).

Loaded by schemathesis from a file path, so it imports nothing from ``tests``.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

REGISTERED = ("GOOGL", "EURUSD")
"""The bundled samples: every server has them."""

UNSTATED_RULES = frozenset(
    {
        "unknown_ticker",  # a registered ticker
        "fast_not_below_slow",  # fast_range below slow_range, end by end
        "range_reversed",  # [min, max] with min <= max
        "dates_reversed",  # end_date on or after start_date
        "invalid_parameter",  # ranges/parameters name the strategy's own; a valid combination
        "invalid_setting",  # engine settings within their ranges (GET /api/v1/catalog)
        "invalid_strategy",  # a stored strategy's name
        "invalid_data",  # dates within the ticker's data; an uploaded file's rows
        "unsafe_webhook_url",  # the SSRF guard: no loopback, private or metadata address
        "invalid_webhook_url",
        "invalid_input",  # an opaque cursor that is not one the server gave
        "unknown_timeframe",  # a bar interval the resampler knows
        "invalid_spec",  # walk-forward windows: step_bars >= test_bars, enough bars for one
    }
)


def _positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


@schemathesis.hook
def before_call(_ctx: Any, case: Case, **_kwargs: Any) -> None:
    if not _positive(case) or not isinstance(case.body, dict):
        return
    for field in ("ticker", "symbol"):
        value = case.body.get(field)
        if isinstance(value, str):
            case.body[field] = REGISTERED[len(value) % len(REGISTERED)]
    _fast_below_slow(case.body)


def _fast_below_slow(body: dict[str, Any]) -> None:
    fast, slow = body.get("fast_range"), body.get("slow_range")
    if not (_pair(fast) and _pair(slow)):
        return
    a, b, c, d = sorted([*fast, *slow])
    if a < c and b < d:
        body["fast_range"], body["slow_range"] = [a, b], [c, d]


def _pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)


@schemathesis.check
def schema_valid_request_accepted(ctx: CheckContext, response: Response, case: Case) -> None:
    """A schema-valid request is not refused, but for :data:`UNSTATED_RULES`."""
    if not _positive(case) or response.status_code not in (400, 415, 422):
        return
    body = response.json()
    errors = body.get("details", {}).get("errors") or [{"type": body.get("error")}]
    codes = {str(e.get("type")) for e in errors}
    if response.status_code != 422 or not codes <= UNSTATED_RULES:
        raise AssertionError(
            f"a schema-valid request was refused with {response.status_code}: "
            f"{body.get('message')!r} (error codes: {', '.join(sorted(codes))})"
        )
