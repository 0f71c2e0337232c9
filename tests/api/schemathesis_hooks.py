"""Schemathesis hooks for ``tests/api/schemathesis.toml``: what the OpenAPI schema cannot say.

- A ticker (or a spec's ``data``) that fits the schema (1-40 characters) is replaced by a
  registered one,
  ``fast_range``/``slow_range`` pairs are ordered fast below slow where they can be, and the
  names in ``ranges`` become the strategy's parameters, so the requests reach the code behind
  those rules.
- ``/metrics`` gets the metrics token (``$TRADESWEEP_METRICS_TOKEN``, when set), since it
  refuses API keys.
- :func:`schema_valid_request_accepted` replaces schemathesis' ``positive_data_acceptance``:
  a schema-valid request must not be refused with 400, 415 or 422, unless every error it
  names is one of :data:`UNSTATED_RULES`, the rules a JSON Schema cannot state (cross-field
  rules and what depends on stored data; the OpenAPI descriptions name them).

Loaded by schemathesis (in the ``st`` process) from a file path, so it imports nothing from
``tests``.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

from tradesweep.services.submit import strategy_name
from tradesweep.strategies import strategy_classes

REGISTERED = ("GOOGL", "EURUSD")
"""The bundled samples: every server has them."""
PARAMETERS = {
    name: [p["name"] for p in cls.describe()["parameters"]]
    for name, cls in strategy_classes(plugins=[]).items()
}

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
        "invalid_cursor",  # an opaque cursor that is not one the server gave
        "invalid_spec",  # walk-forward windows: step_bars >= test_bars, within the ticker's bars
    }
)


def _positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


@schemathesis.hook
def before_call(_ctx: Any, case: Case, **_kwargs: Any) -> None:
    """Each rewrite keeps a schema-invalid part invalid (a ticker of a wrong length or type
    stays; out-of-bounds periods stay out of bounds), so schema-invalid requests get past the
    ticker too and probe what is behind it."""
    token = os.environ.get("TRADESWEEP_METRICS_TOKEN")
    if case.operation.path == "/metrics" and token:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        return
    if not isinstance(case.body, dict) or case.operation.path == "/api/v1/datasets":
        return  # an upload names a new ticker
    for field in ("ticker", "symbol", "data"):
        value = case.body.get(field)
        if isinstance(value, str) and 3 <= len(value) <= 20:
            case.body[field] = REGISTERED[len(value) % len(REGISTERED)]
    _fast_below_slow(case.body)
    _strategy_ranges(case.body)


def _fast_below_slow(body: dict[str, Any]) -> None:
    fast, slow = body.get("fast_range"), body.get("slow_range")
    if not (_pair(fast) and _pair(slow)):
        return
    a, b, c, d = sorted([*fast, *slow])
    if a < c and b < d:
        body["fast_range"], body["slow_range"] = [a, b], [c, d]


def _strategy_ranges(body: dict[str, Any]) -> None:
    ranges = body.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        return
    strategy = strategy_name(str(body.get("strategy_type", body.get("strategy", "SMA"))))
    given = {n for n in ("fast", "slow") if body.get(f"{n}_range") is not None}
    free = [p for p in PARAMETERS.get(strategy, []) if p not in given]
    body["ranges"] = dict(zip(free, ranges.values(), strict=False))


def _pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)


@schemathesis.check
def schema_valid_request_accepted(ctx: CheckContext, response: Response, case: Case) -> None:
    """A schema-valid request is not refused, but for :data:`UNSTATED_RULES`."""
    if not _positive(case) or response.status_code not in (400, 415, 422):
        return
    body = response.json()
    codes = {str(body.get("error"))}
    if body.get("error") == "validation_error":
        codes = {str(e.get("type")) for e in body.get("details", {}).get("errors", [])}
    if response.status_code != 422 or not codes <= UNSTATED_RULES:
        raise AssertionError(
            f"a schema-valid request was refused with {response.status_code}: "
            f"{body.get('message')!r} (error codes: {', '.join(sorted(codes))})"
        )
