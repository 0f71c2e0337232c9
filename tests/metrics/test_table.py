"""The metric table: every row is complete, its formula is on docs/metrics.md, and the key
lists and labels are derived from it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from tradesweep.metrics import KEYS, LABELS, NULL_REASONS, OBJECTIVES
from tradesweep.metrics.names import ALIASES, keys_shown_in
from tradesweep.metrics.table import METRICS, Metric, MetricTableError, metric_of, validate_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
ANCHOR = re.compile(r'<a id="([a-z0-9_-]+)"></a>')


def _missing_anchors(rows: tuple[Metric, ...], text: str) -> list[str]:
    """The rows whose formula anchor is not an ``<a id>`` of the page."""
    ids = set(ANCHOR.findall(text))
    return [row.key for row in rows if row.anchor not in ids]


def test_every_row_has_its_formula_anchor_on_docs_metrics_md() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = _missing_anchors(METRICS, text)
    assert not missing, f"docs/metrics.md has no <a id> for the formula of {missing}"
    stale = set(ANCHOR.findall(text)) - {row.anchor for row in METRICS}
    assert not stale, f"docs/metrics.md anchors no metric: {sorted(stale)}"


def test_a_new_row_without_its_formula_on_the_page_is_caught() -> None:
    text = DOC.read_text(encoding="utf-8")
    new = Metric("ulcer_index", "Ulcer index", "ratio", "none", 2, "ulcer_index")
    assert _missing_anchors((*METRICS, new), text) == ["ulcer_index"]


def _new(**changes: Any) -> Metric:
    base = Metric("ulcer_index", "Ulcer index", "ratio", "none", 2, "ulcer_index")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_new(label=" "), "label is empty"),
        (_new(anchor=""), "anchor"),
        (_new(unit="percent"), "unit 'percent' is not one of"),
        (_new(tone="higher"), "tone 'higher' is not one of"),
        (_new(key="Ulcer Index"), "key must be snake_case"),
        (_new(key="sharpe_ratio"), "name 'sharpe_ratio' is already used"),
        (_new(alias="annualized_return"), "name 'annualized_return' is already used"),
        (_new(label="Sharpe ratio"), "label 'Sharpe ratio' is already used"),
        (_new(unit="count"), "a count has 0 decimals"),
        (_new(unit="date", decimals=None, tone="sign"), "a date value has no decimals"),
        (_new(decimals=9), "decimals must be None or 0..6"),
        (_new(shown_in=frozenset({"dashboard"})), "shown_in ['dashboard']"),
    ],
)
def test_an_incomplete_row_is_refused_naming_the_row_and_the_field(
    row: Metric, message: str
) -> None:
    with pytest.raises(MetricTableError, match=re.escape(message)) as caught:
        validate_table((*METRICS, row))
    assert f"row '{row.key}'" in str(caught.value)


def test_a_label_that_is_a_key_is_refused() -> None:
    with pytest.raises(MetricTableError, match="also metric keys"):
        validate_table((*METRICS, _new(label="sharpe_ratio")))


def test_the_table_itself_is_valid() -> None:
    assert validate_table(METRICS) == METRICS


def test_keys_labels_and_null_reasons_come_from_the_table() -> None:
    assert tuple(m.key for m in METRICS if m.source == "backtest") == KEYS
    assert dict(LABELS) == {m.key: m.label for m in METRICS}
    assert dict(NULL_REASONS) == {m.key: m.null_reason for m in METRICS if m.null_reason}
    assert set(OBJECTIVES) <= {m.key for m in METRICS}
    for alias, key in ALIASES.items():
        assert metric_of(alias) is metric_of(key)


def test_short_lists_nest_and_are_in_table_order() -> None:
    summary = keys_shown_in("sweep_summary")
    report = keys_shown_in("sweep_report")
    best = keys_shown_in("best_api")
    assert summary and set(summary) <= set(report) <= set(best)
    order = [m.key for m in METRICS]
    for short in (summary, report, best):
        assert list(short) == sorted(short, key=order.index)
