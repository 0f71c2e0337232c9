"""What the OpenAPI schema (``/openapi.json``) says beyond FastAPI's defaults, so it states what
the validation really accepts and answers.

- :func:`errors`: the error answers a route can give, each with the one error shape
  (:class:`~tradesweep.api.schemas.ErrorOut`). Every route can answer 400 (a NUL character in
  a parameter, an invalid ``Content-Length``), 413 (a body over the limit), 422 (a parameter
  that fails validation) and 503 (the database is down); routes add what else applies to them.
- :func:`request_body`: the body of a route that reads it itself
  (:data:`~tradesweep.api.deps.BodyDep`), as JSON and as form fields, from the pydantic model
  that validates it, with the rules its validators check in code (ticker length, the bounds of
  a period range, the known strategies, objectives and presets, engine settings) stated as
  schema constraints.
- :func:`install`: optional parameters are documented without ``null`` (they are left out,
  never sent as null); every state change (POST, PUT, PATCH, DELETE) documents 403 ``csrf``
  (:mod:`tradesweep.api.csrf`: a cross-site request made with the session cookie) and every
  operation with a body 408 ``body_timeout`` (:class:`~tradesweep.api.middleware.BodyLimit`),
  so no route can forget them.

Some rules cannot be written in a JSON Schema: a ticker must be registered, fast periods must
stay below slow ones, ``ranges`` must name the strategy's parameters, at least one combination
must be valid, settings must be within their ranges (see ``GET /api/v1/catalog``),
walk-forward windows must fit in the ticker's data, a ``cursor`` must be one the server gave.
The fields' descriptions say so, and such a request answers 422 naming the field.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter

from tradesweep.api.schemas import ErrorOut
from tradesweep.engine import EngineSettings
from tradesweep.metrics.periods import MAX_PERIODS_PER_YEAR
from tradesweep.services.orchestrator import TIMEFRAME_PATTERN
from tradesweep.services.submit import (
    PERIOD_MAX,
    PERIOD_MIN,
    STRATEGY_ALIASES,
    TICKER_MAX_LEN,
    TICKER_MIN_LEN,
)
from tradesweep.services.submit_spec import MAX_CONSTRAINT_CHARS, MAX_SEED, MAX_TOP
from tradesweep.specs import MAX_WINDOW_BARS, SEARCHES, BacktestSpec, SweepSpec, WalkForwardSpec
from tradesweep.strategies import strategy_classes
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.sweep.preset import SPEC_KEYS, builtin_presets
from tradesweep.sweep.ranking import OBJECTIVES
from tradesweep.sweep.space import INT64_MAX

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

CSRF_TEXT = (
    "csrf: a cross-site state change made with the session cookie (Origin or Sec-Fetch-Site "
    "of another site); send it from the dashboard's pages or with an API key"
)
BODY_TIMEOUT_TEXT = (
    "body_timeout: the whole body did not arrive within body_timeout_seconds of the headers "
    "(the connection is closed)"
)
_ERROR_TEXT: dict[int, str] = {
    400: "a NUL character in a parameter, an invalid Content-Length, or a body that is not "
    "JSON or form data (or JSON nested too deep)",
    401: "missing, invalid or revoked API key",
    403: CSRF_TEXT,
    404: "no such id for this tenant",
    408: BODY_TIMEOUT_TEXT,
    409: "Idempotency-Key reused with another body",
    413: "body over the size limit",
    415: "unsupported Content-Type",
    422: "invalid request; details.field names the field",
    429: "rate limit or active-job cap reached; retry after Retry-After seconds",
    503: "database unavailable; retry after Retry-After seconds",
}
COMMON = (400, 413, 422, 503)
"""What every route can answer: the NUL guard, the body limit, parameter validation, the
database being down."""


def errors(*statuses: int, **texts: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: :data:`COMMON` and ``statuses``, each with the error body;
    ``texts`` (``s403="..."``) describes a status in the route's own words."""
    return {
        status: {"model": ErrorOut, "description": texts.get(f"s{status}", _ERROR_TEXT[status])}
        for status in sorted({*COMMON, *statuses})
    }


AUTHED = errors(401)
"""A route behind the API key."""
BY_ID = errors(401, 404)
"""A route behind the API key that reads one resource by id."""
BODY = errors(401, 415)
"""A route behind the API key that reads a body."""
SUBMIT = errors(401, 409, 415, 429)
"""A route that queues a job (:data:`~tradesweep.api.deps.SubmissionLimits`)."""
UPLOAD = errors(
    401,
    403,
    409,
    415,
    s403="dataset_read_only: the ticker is shared or bundled data; or " + CSRF_TEXT,
    s409="dataset_exists: your tenant has this ticker already; send overwrite=true to replace it",
    s413="body over the size limit, or the file over max_upload_decompressed_bytes or "
    "max_upload_rows once decompressed (the limit is named)",
    s415="not multipart/form-data",
)
"""``POST /api/v1/datasets`` (:mod:`tradesweep.api.routers.datasets`)."""
CURSOR = (
    "next_cursor of the previous page, as is; leave it out for the first page. Any other "
    "value answers 422 invalid_cursor"
)
"""The description of a ``cursor`` query parameter (:mod:`tradesweep.store.pagination`)."""

_UNSAFE = ("post", "put", "patch", "delete")


def install(app: FastAPI) -> None:
    """``app.openapi`` with :func:`parameters_without_null` and :func:`middleware_errors`
    applied."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return middleware_errors(parameters_without_null(generate()))

    app.openapi = openapi  # type: ignore[method-assign]


def parameters_without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter (``int | None = None``) is left out, never sent as null: its
    schema is its non-null form (FastAPI writes ``anyOf [X, null]``, and a client that sends
    ``Last-Event-ID: null`` gets 422). In place (idempotent); returns ``schema``."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                prop = parameter.get("schema", {})
                options = [s for s in prop.get("anyOf", []) if s.get("type") != "null"]
                if len(options) == 1 and len(prop["anyOf"]) == 2:
                    del prop["anyOf"]
                    prop.update(options[0])
    return schema


def middleware_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """What the middleware answers before any route, on the operations it applies to: 403
    ``csrf`` on every state change (added to a route's own 403, if it has one), 408
    ``body_timeout`` on every operation with a body. In place (idempotent); returns
    ``schema``."""
    error = {"$ref": "#/components/schemas/ErrorOut"}
    content = {JSON: {"schema": error}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method in _UNSAFE:
                forbidden = responses.setdefault("403", {"description": CSRF_TEXT})
                if CSRF_TEXT not in forbidden["description"]:
                    forbidden["description"] += "; or " + CSRF_TEXT
                forbidden.setdefault("content", content)
            if "requestBody" in operation:
                responses.setdefault("408", {"description": BODY_TIMEOUT_TEXT, "content": content})
    return schema


# ---- request bodies ------------------------------------------------------------------------

TICKER_PATTERN = (
    rf"^\s*[A-Za-z0-9^][A-Za-z0-9._=^-]{{{TICKER_MIN_LEN - 1},{TICKER_MAX_LEN - 1}}}\s*$"
)
"""The registry's ticker rule (:data:`~tradesweep.data.registry.TICKER_RULE`) as a JSON
Schema pattern: case and surrounding spaces aside, as the server reads it."""
_TICKER = {"minLength": TICKER_MIN_LEN, "maxLength": TICKER_MAX_LEN, "pattern": TICKER_PATTERN}
_PERIOD = {"type": "integer", "minimum": PERIOD_MIN, "maximum": PERIOD_MAX}


def _parameter_bounds(names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The widest bounds of the built-ins' parameters (those named ``names``, else all): a
    value outside them is outside every strategy's bounds, so it is refused whatever the
    strategy."""
    params = [
        p
        for name, cls in strategy_classes(plugins=[]).items()
        if name in BUILTINS
        for p in cls.describe()["parameters"]
        if names is None or p["name"] in names
    ]
    return {"minimum": min(p["min"] for p in params), "maximum": max(p["max"] for p in params)}


_NUMBER = {"type": "number", **_parameter_bounds()}
_STEP = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": INT64_MAX,
    "description": "beyond max - min: min alone",
}
_RANGE = {
    "anyOf": [
        _NUMBER,
        {"type": "string", "minLength": 1, "description": "MIN:MAX[:STEP] or V1,V2,..."},
        {"type": "array", "items": _NUMBER, "minItems": 1, "description": "the values"},
        {
            "type": "object",
            "properties": {"min": _NUMBER, "max": _NUMBER, "step": _STEP},
            "required": ["min", "max"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"values": {"type": "array", "items": _NUMBER, "minItems": 1}},
            "required": ["values"],
            "additionalProperties": False,
        },
    ]
}
"""One parameter's range in ``ranges`` (:func:`tradesweep.sweep.space.as_range_spec`)."""
_RULES: dict[str, dict[str, Any]] = {
    "ticker": _TICKER,
    "symbol": _TICKER,
    "strategy_type": {"enum": [*STRATEGY_ALIASES, *BUILTINS]},
    "objective": {"enum": list(OBJECTIVES)},
    "config_path": {"enum": ["", *builtin_presets()]},
    "webhook_url": {
        "description": "http(s) URL called when the job ends, without credentials; loopback, "
        "private and metadata addresses and non-canonical numeric hosts are refused; empty: none",
        "maxLength": 2048,
        "pattern": r"^$|^https?://[^\s/?#@:]+(:[0-9]*)?([/?#]\S*)?$",
    },
    "fast_range": {"prefixItems": [_PERIOD, _PERIOD]},
    "slow_range": {"prefixItems": [_PERIOD, _PERIOD]},
    "ranges": {"type": "object", "additionalProperties": _RANGE},
    "parameters": {"type": "object", "additionalProperties": _NUMBER},
    "fast_period": {"type": "integer", **_parameter_bounds(("fast",))},
    "slow_period": {"type": "integer", **_parameter_bounds(("slow",))},
    "timeframe": {"pattern": TIMEFRAME_PATTERN},
}
"""Constraints the validators of :mod:`tradesweep.services.submit` check in code, for the
schema (from the same constants)."""
_WHOLE = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
_SPEC_RULES: dict[str, dict[str, Any]] = {
    "data": {"type": "string", **_TICKER, "description": "a ticker registered for your tenant"},
    "strategy": {"enum": [*STRATEGY_ALIASES, *BUILTINS]},
    "ranges": _RULES["ranges"],
    "params": _RULES["parameters"],
    "constraint": {"type": "string", "minLength": 1, "maxLength": MAX_CONSTRAINT_CHARS},
    "search": {"enum": list(SEARCHES)},
    "trials": _WHOLE,
    "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
    "objective": {"enum": list(OBJECTIVES)},
    "min_trades": {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
    "top": {"type": "integer", "minimum": 1, "maximum": MAX_TOP},
    "preset": {"enum": builtin_presets()},
    "periods_per_year": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_PERIODS_PER_YEAR},
    "max_combinations": _WHOLE,
    "plugins": {"type": "array", "maxItems": 0, "description": "never loaded over the API"},
    "defaults": {"type": "object", "maxProperties": 0, "description": "the server's own"},
    "explicit_settings": {
        "type": "array",
        "items": {"enum": [f.name for f in dataclasses.fields(EngineSettings)]},
    },
    "timeframe": {"type": "string", "pattern": TIMEFRAME_PATTERN},
    "risk_free_rate": {"type": "number", "exclusiveMinimum": -1},
}
"""What a spec's fields may be over the API (:func:`tradesweep.services.submit_spec.
allowed_values`: no file, plugin or preset file; bounded work)."""
_WINDOW_RULES: dict[str, dict[str, Any]] = {
    "train_bars": {"type": "integer", "minimum": 2, "maximum": MAX_WINDOW_BARS},
    "test_bars": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_BARS},
    "step_bars": {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_BARS},
            {"type": "null"},
        ]
    },
    "anchored": {"type": "boolean"},
}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra=`` for a body read by :data:`~tradesweep.api.deps.BodyDep`: the model's
    JSON Schema (with :data:`_RULES` applied) as JSON, and the same fields as a
    form (``null`` cannot be sent in a form: leave the field out; object fields are sent as
    JSON text and are not listed). A body with a required field that a form cannot list (an
    object: ``optimize_params``) is documented as JSON only, so no form the schema admits
    lacks it."""
    schema = body_schema(model)
    content = {JSON: {"schema": schema}}
    form = form_schema(schema)
    if set(form["required"]) == set(schema.get("required", [])):
        content[FORM] = {"schema": form}
    return {"requestBody": {"required": True, "content": content}}


def spec_body(spec: type, *, request: type[BaseModel] | None = None) -> dict[str, Any]:
    """``openapi_extra=`` for a route that takes a spec's own JSON (:func:`spec_schema`); with
    ``request``, a route that also takes that request model's body (JSON or form) and tells
    them apart by the spec's ``data`` key (:mod:`tradesweep.services.submit_spec`)."""
    schema = spec_schema(spec)
    if request is None:
        return {"requestBody": {"required": True, "content": {JSON: {"schema": schema}}}}
    extra = request_body(request)
    content = extra["requestBody"]["content"]
    content[JSON]["schema"] = {"anyOf": [content[JSON]["schema"], schema]}
    return extra


def spec_schema(spec: type) -> dict[str, Any]:
    """The JSON Schema of a spec as the API takes it: :class:`~tradesweep.sweep.spec.SweepSpec`
    or :class:`~tradesweep.services.backtest.BacktestSpec` (its fields, flat), or
    :class:`~tradesweep.sweep.walkforward.WalkForwardSpec` (the sweep's fields and the
    windows, flat), each field held to what a request may name (:data:`_SPEC_RULES`)."""
    window = spec is WalkForwardSpec
    schema = TypeAdapter(SweepSpec if window else spec).json_schema()
    schema.pop("$defs", None)
    schema.pop("description", None)
    properties = schema["properties"]
    if window:
        properties.update(_WINDOW_RULES)
        schema["required"] = [*schema.get("required", []), "train_bars", "test_bars"]
    rules = {**_SPEC_RULES, "settings": settings_schema()}
    for name, prop in properties.items():
        prop.pop("title", None)
        if name in rules:
            rule = copy.deepcopy(rules[name])
            # from_dict takes null for these: the default, or (a sweep's) the preset's value
            nullable = prop.get("default", 0) is None or (
                name in SPEC_KEYS and spec is not BacktestSpec
            )
            properties[name] = {"anyOf": [rule, {"type": "null"}]} if nullable else rule
    schema["additionalProperties"] = False
    schema["title"] = spec.__name__
    return _standard_keywords(schema)


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, each field named in :data:`_RULES` (and ``settings``)
    tightened by its rule."""
    schema = _standard_keywords(copy.deepcopy(model.model_json_schema()))
    for name, prop in schema.get("properties", {}).items():
        if name == "settings":
            _tighten(prop, settings_schema())
        elif name in _RULES:
            _tighten(prop, _RULES[name])
    return schema


_KEYWORDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
    "min_length": "minLength",
    "max_length": "maxLength",
}
"""pydantic's constraint names and their JSON Schema keywords: pydantic writes its own names
into the schema when the constraints of ``Field(...)`` apply to an optional type whose other
member has validators (``Int | None = Field(None, ge=1)``, :data:`tradesweep.services.submit.
Int`), and a JSON Schema validator ignores them."""


def _standard_keywords(node: Any) -> Any:
    """``node`` with :data:`_KEYWORDS` renamed, at any depth of its schemas (a property named
    ``gt`` and values such as defaults are left alone). In place; returns ``node``."""
    if isinstance(node, list):
        for item in node:
            _standard_keywords(item)
    elif isinstance(node, dict):
        for key, value in list(node.items()):
            if key in ("properties", "$defs"):
                for sub in value.values():
                    _standard_keywords(sub)
                continue
            if key in ("default", "examples", "example", "enum", "const"):
                continue  # values, not schemas
            if key in _KEYWORDS and isinstance(value, int | float):
                node.setdefault(_KEYWORDS[key], node.pop(key))
            else:
                _standard_keywords(value)
    return node


def _tighten(prop: dict[str, Any], rule: dict[str, Any]) -> None:
    """``rule`` onto the property's non-null form (``anyOf [X, null]`` keeps its null)."""
    target = next((s for s in prop.get("anyOf", []) if s.get("type") != "null"), prop)
    if "enum" in rule:
        target.pop("type", None)
    if rule.get("type") == "object":
        for key in ("properties", "additionalProperties"):
            target.pop(key, None)
    target.update(copy.deepcopy(rule))


def form_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The form-field variant of a JSON body schema."""
    properties = {}
    for name, prop in schema.get("properties", {}).items():
        options = [s for s in prop.get("anyOf", [prop]) if s.get("type") != "null"]
        if len(options) != 1 or options[0].get("type") == "object":
            continue
        field = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        field.update(options[0])
        properties[name] = field
    required = [n for n in schema.get("required", []) if n in properties]
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def settings_schema() -> dict[str, Any]:
    """The engine settings a request may set: each field of
    :class:`~tradesweep.engine.EngineSettings` with its type and choices (the ranges are in
    ``GET /api/v1/catalog`` and checked on submission)."""
    hints = typing.get_type_hints(EngineSettings)
    properties: dict[str, Any] = {}
    for field in dataclasses.fields(EngineSettings):
        hint = hints[field.name]
        args = typing.get_args(hint)
        nullable = type(None) in args
        kind = next((a for a in args if a is not type(None)), hint) if nullable else hint
        if typing.get_origin(kind) is Literal:
            prop: dict[str, Any] = {"enum": list(typing.get_args(kind))}
        else:
            prop = {"type": _JSON_TYPES[kind]}
        properties[field.name] = {"anyOf": [prop, {"type": "null"}]} if nullable else prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


_JSON_TYPES = {float: "number", int: "integer", bool: "boolean", str: "string"}


def upload_body(ticker_min: int, ticker_max: int) -> dict[str, Any]:
    """``openapi_extra=`` of ``POST /api/v1/datasets``: a multipart form with the file, the
    ticker (the registry's name rule, :meth:`~tradesweep.data.DatasetRegistry.check_writable`,
    within the length sweeps accept) and ``overwrite``."""
    fields = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "CSV (.csv, .csv.gz, .csv.bz2, .csv.xz, .csv.zip) or Parquet "
            "(.parquet), within max_upload_decompressed_bytes and max_upload_rows",
        },
        "ticker": {
            "type": "string",
            "pattern": TICKER_PATTERN,
            "description": f"{ticker_min}-{ticker_max} letters, digits or . _ - = ^; stored "
            "upper-case; not a bundled sample's or shared ticker (403), nor one of your own "
            "without overwrite (409)",
        },
        "overwrite": {
            "type": "string",
            "enum": ["true", "false"],
            "description": "true: replace your tenant's own upload of the ticker",
        },
    }
    schema = {"type": "object", "properties": fields, "required": ["file", "ticker"]}
    return {"requestBody": {"required": True, "content": {MULTIPART: {"schema": schema}}}}
