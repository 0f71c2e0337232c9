"""Where a row came from, so every error can point at it the way the user sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

OriginKind = Literal["csv", "parquet", "frame"]


@dataclass(frozen=True)
class Origin:
    """A source of rows: a CSV file, a Parquet file or an in-memory frame.

    ``position`` below is the 0-based data row. CSV rows are reported as file lines with the
    header as line 1 (what an editor shows); Parquet and frames as 1-based data rows.
    """

    name: str
    kind: OriginKind

    def where(self, position: int) -> str:
        if self.kind == "csv":
            return f"line {position + 2} (header is line 1)"
        return f"row {position + 1} (first data row is row 1)"

    def details(self, position: int, column: str | None) -> dict[str, Any]:
        details: dict[str, Any] = {"file": self.name, "row": position + 1, "column": column}
        if self.kind == "csv":
            details["line"] = position + 2
        return details

    def problem(
        self,
        position: int,
        column: str | None,
        text: str,
        *,
        others: int = 0,
        timestamp: pd.Timestamp | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A message naming file, row and column, and its details dict."""
        place = f"{self.name}: {self.where(position)}"
        if timestamp is not None and self.kind == "frame":
            place += f" at {timestamp}"
        if column is not None:
            place += f", column '{column}'"
        more = f"; {others} more row(s) have the same problem" if others else ""
        return f"{place}: {text}{more}", self.details(position, column)
