"""Rich tables that fit the terminal without cutting a number.

Rich shrinks a table that is wider than the terminal by cutting its cells with an ellipsis
(``+124.…``), which loses the one thing a number table is for. :func:`fit` lays a built table
out for a width instead:

* a table that fits is left as it is;
* otherwise every column keeps at least its longest word (a number, a date, ``fast=20,``), and
  only text wraps, at spaces: a number is never split or cut;
* when even the longest words do not fit, the columns named in ``drop`` go first, in order, and
  the caption names them and where to find them (``--json``);
* when that is not enough, the table is printed stacked: one ``field  value`` block per row.

Cells are measured by their plain text, so :func:`fit` works on any table whose cells are
strings or :class:`~rich.text.Text`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Column, Table
from rich.text import Text

__all__ = ["JSON_HINT", "PIPED_WIDTH", "fit", "wide_console"]

JSON_HINT = "--json has them"

PIPED_WIDTH = 200
"""Width of :func:`wide_console` when stdout is not a terminal and ``COLUMNS`` is not set."""


def wide_console() -> Console:
    """The terminal's console; piped output (no terminal, no ``COLUMNS``) gets
    :data:`PIPED_WIDTH` columns, so that a listing keeps one line per row for grep."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit():
        return Console()
    return Console(width=PIPED_WIDTH)


def fit(
    table: Table,
    width: int,
    *,
    drop: Sequence[str] = (),
    hint: str = "a wider terminal shows them",
) -> Table:
    """``table`` laid out to be at most ``width`` cells wide with every word whole (module
    docstring). ``drop``: headers of the columns that may be left out, least important first;
    ``hint``: where the reader finds them, for the caption that names them."""
    for column in table.columns:
        column.overflow = "fold"  # never an ellipsis, whatever happens below
    if _natural(table) <= width:
        return table
    hidden: list[str] = []
    for header in drop:
        if _minimum(table) <= width:
            break
        if _remove(table, header):
            hidden.append(header)
    if _minimum(table) > width:
        return _stacked(table, width)
    _shrink(table, width)
    if hidden:
        table.caption = f"not shown at this width: {', '.join(hidden)} ({hint})"
        table.caption_justify = "left"
    return table


def _plain(cell: RenderableType) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def _texts(column: Column, header: bool) -> Iterable[str]:
    if header:
        yield _plain(column.header)
    for cell in column.cells:
        yield _plain(cell)


def _widest_line(column: Column, header: bool = True) -> int:
    lines = (line for text in _texts(column, header) for line in text.splitlines())
    return max((cell_len(line) for line in lines), default=0)


def _widest_word(column: Column, header: bool = True) -> int:
    words = (word for text in _texts(column, header) for word in text.split())
    return max((cell_len(word) for word in words), default=0)


def _overhead(table: Table) -> int:
    """Cells of a row that are not content: padding, the separators and the edges."""
    n = len(table.columns)
    _, right, _, left = table.padding
    padding = n * (left + right)
    if not table.pad_edge:
        padding -= left + right
    lines = 0
    if table.box is not None:
        lines = max(n - 1, 0) + (2 if table.show_edge else 0)
    return padding + lines


def _natural(table: Table) -> int:
    return sum(_widest_line(c, table.show_header) for c in table.columns) + _overhead(table)


def _minimum(table: Table) -> int:
    return sum(_widest_word(c, table.show_header) for c in table.columns) + _overhead(table)


def _remove(table: Table, header: str) -> bool:
    for column in table.columns:
        if _plain(column.header) == header:
            table.columns.remove(column)
            for index, kept in enumerate(table.columns):
                kept._index = index  # rich pads the first and last column by their index
            return True
    return False


def _shrink(table: Table, width: int) -> None:
    """Fix every column's width: the natural ones, less one cell at a time from the column
    with the most room above its longest word, until the table fits."""
    columns = table.columns
    widths = [_widest_line(c, table.show_header) for c in columns]
    floors = [_widest_word(c, table.show_header) for c in columns]
    excess = sum(widths) + _overhead(table) - width
    while excess > 0:
        room = [w - f for w, f in zip(widths, floors, strict=True)]
        i = max(range(len(columns)), key=room.__getitem__)
        if room[i] <= 0:
            break
        widths[i] -= 1
        excess -= 1
    for column, w in zip(columns, widths, strict=True):
        column.width = w
        column.no_wrap = False  # wrap at spaces: every word fits its column


def _stacked(table: Table, width: int) -> Table:
    """One ``field  value`` block per row of ``table``: what fits when its columns do not."""
    stacked = Table(
        title=table.title,
        title_justify=table.title_justify,
        show_header=False,
        box=table.box,
        caption=table.caption,
    )
    stacked.add_column("field", overflow="fold")
    stacked.add_column("value", overflow="fold")
    columns = table.columns
    for row in range(table.row_count):
        for n, column in enumerate(columns):
            cell = list(column.cells)[row]
            stacked.add_row(
                Text(_plain(column.header)),
                cell if isinstance(cell, Text) else Text(_plain(cell)),
                end_section=n == len(columns) - 1,
            )
    if _natural(stacked) > width:
        _shrink(stacked, width)
    return stacked
