"""One name per concept, and how each surface says it (``docs/glossary.md`` is its prose).

A spec field (``train_bars``) is also the API's field and the CLI's flag spelled with dashes
(``--train-bars``), except where :data:`FLAGS` says otherwise. The core words its errors in
field names (``fix="e.g. train_bars=500"``); each surface renders them in its own words:

* :func:`for_cli`: ``train_bars=500`` -> ``--train-bars 500``, ``min_trades`` ->
  ``--min-trades``, ``overwrite=true`` -> ``--overwrite`` (the CLI's one-line errors);
* :func:`for_api`: the reverse, for any CLI wording that reaches an API answer
  (``--train 500`` -> ``train_bars=500``), and the CLI commands that have an endpoint
  (:data:`API_ACTIONS`).

Only the names in these tables are rewritten, so a ticker, a path or a parameter
(``-r fast=5:20:5``) passes through untouched.
"""

from __future__ import annotations

import re
from types import MappingProxyType

FLAGS = MappingProxyType(
    {
        "train_bars": "--train-bars",
        "test_bars": "--test-bars",
        "step_bars": "--step-bars",
        "min_trades": "--min-trades",
        "max_combinations": "--max-combinations",
        "periods_per_year": "--periods-per-year",
        "risk_free_rate": "--risk-free",
        "indicator_convention": "--indicator-convention",
        "size_type": "--size-type",
        "search": "--search",
        "trials": "--trials",
        "objective": "--objective",
        "overwrite": "--overwrite",
    }
)
"""The CLI flag of each spec / API field whose name a message may use. A field without an
underscore (``search``, ``trials``) is an English word too, so :func:`for_cli` rewrites it
only in the ``name=value`` form."""

OLD_FLAGS = MappingProxyType(
    {
        "--train": "train_bars",
        "--test": "test_bars",
        "--step": "step_bars",
    }
)
"""CLI flags kept as hidden aliases, and the field each names."""

BOOLEAN_FIELDS = frozenset({"overwrite"})
"""Fields that are switches on the CLI: ``overwrite=true`` is ``--overwrite``."""

API_ACTIONS = MappingProxyType(
    {
        "`tradesweep data import FILE --ticker NAME`": "POST /api/v1/datasets",
    }
)
"""CLI commands a message may suggest, and the API request that does the same."""

_FIELD_TOKEN = re.compile(
    r"(?<![\w.\-/])([a-z][a-z0-9]*(?:_[a-z0-9]+)*)(?:=([^\s,;:)'\"]+))?(?![\w\-]|\.\w)"
)
_FLAG_TOKEN = re.compile(r"(?<![\w\-])(--[a-z][a-z0-9-]*)(?:[ =]([\w\"'][^\s,;)`]*))?")
_TRUE = {"true", "True", "1", "yes"}
_WORDS = {"a", "an", "and", "as", "for", "in", "is", "of", "or", "out", "the", "to", "with"}
"""Words that follow a flag in a sentence without being its value (``leave --trials out``)."""


def for_cli(text: str) -> str:
    """``text`` with the field names of :data:`FLAGS` written as the CLI's flags."""

    def flag(match: re.Match[str]) -> str:
        name, value = match[1], match[2]
        if name not in FLAGS or (value is None and "_" not in name):
            return match[0]
        if name in BOOLEAN_FIELDS:
            return FLAGS[name] if value is None or value in _TRUE else match[0]
        return FLAGS[name] if value is None else f"{FLAGS[name]} {value}"

    return _FIELD_TOKEN.sub(flag, text)


_FIELDS_BY_FLAG = {**{f: n for n, f in FLAGS.items()}, **OLD_FLAGS}


def for_api(text: str) -> str:
    """``text`` with the CLI's flags of :data:`FLAGS` (and :data:`OLD_FLAGS`) written as the
    API's field names, and the CLI commands of :data:`API_ACTIONS` as their requests; any other
    command quoted in backticks (an operator's ``tradesweep keys create``) stays as it is."""
    for command, request in API_ACTIONS.items():
        text = text.replace(command, request)

    def field(match: re.Match[str]) -> str:
        name, value = _FIELDS_BY_FLAG.get(match[1]), match[2]
        if name is None:
            return match[0]
        if name in BOOLEAN_FIELDS or value in _WORDS:
            head = f"{name}=true" if name in BOOLEAN_FIELDS else name
            return head + (f" {value}" if value else "")
        return name if value is None else f"{name}={value}"

    parts = text.split("`")  # odd parts are quoted commands: left as they are
    return "`".join(p if i % 2 else _FLAG_TOKEN.sub(field, p) for i, p in enumerate(parts))
