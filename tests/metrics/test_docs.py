"""docs/metrics.md defines every key and keeps the comparison section."""

from __future__ import annotations

from pathlib import Path

from tradesweep.metrics import KEYS, NULL_REASONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_key_has_a_row_in_docs() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [key for key in KEYS if f"`{key}`" not in text]
    assert not missing, f"docs/metrics.md does not define {missing}"


def test_nullable_keys_are_documented_with_their_reasons() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "## Null values" in text
    assert all(f"`{key}`" in text for key in NULL_REASONS)


def test_peer_comparison_section_is_there() -> None:
    assert "## Differences from backtesting.py and vectorbt" in DOC.read_text(encoding="utf-8")
