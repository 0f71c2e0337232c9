"""One backtest as a self-contained, offline HTML file.

The page embeds plotly's JavaScript once (from the plotly Python package, no CDN) and needs no
network: price candles with the trades' entries and exits, equity and drawdown panels, a
monthly returns heatmap, the metrics table and the trades table. Long series are thinned for
display (the numbers in the tables are always the full backtest's).
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tradesweep.reports.format import MISSING, format_metric, format_time, metric_tone

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

    from tradesweep.services.backtest import BacktestReport

MAX_CANDLES = 5_000
"""More bars than this are drawn as a close-price line instead of candles."""
MAX_POINTS = 20_000
"""Lines with more points than this are thinned to about this many for display."""
MAX_TABLE_TRADES = 1_000
"""The trades table lists the most recent trades up to this many."""
MAX_TRADE_MARKERS = 5_000
"""Entry/exit markers are drawn for the most recent trades up to this many."""

ENTRY_OFFSET = 0.015
"""Entry markers sit this fraction below the entry bar's low (long) or above its high (short)."""

GAIN = "#1a9850"
LOSS = "#d73027"
LONG = "#2166ac"
SHORT = "#8e44ad"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def write_html_report(report: BacktestReport, path: str | Path) -> Path:
    """Write :func:`render_html_report` of ``report`` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(render_html_report(report), encoding="utf-8")
    return target


def render_html_report(report: BacktestReport) -> str:
    """The whole page as one string: inline CSS, plotly's JS inlined once, no external URL."""
    charts = chart_figure(report)
    heatmap = monthly_figure(report)
    chart_div = charts.to_html(
        full_html=False, include_plotlyjs=True, div_id="ts-charts", config=_PLOTLY_CONFIG
    )
    heatmap_div = (
        heatmap.to_html(
            full_html=False, include_plotlyjs=False, div_id="ts-monthly", config=_PLOTLY_CONFIG
        )
        if heatmap is not None
        else '<p class="note">No monthly returns (no bars).</p>'
    )
    title = html.escape(report.title())
    return _PAGE.format(
        title=title,
        subtitle=_subtitle(report),
        settings=_settings_line(report),
        charts=chart_div,
        monthly=heatmap_div,
        metrics=_metrics_table(report),
        trades=_trades_table(report),
        css=_CSS,
    )


def chart_figure(report: BacktestReport) -> Figure:
    """Price (candles + trades), equity (with buy & hold) and drawdown, sharing the time axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    bars = report.bars
    times = _naive_utc(bars.index)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=(0.55, 0.25, 0.2),
        subplot_titles=("Price", "Equity [cash]", "Drawdown [%]"),
    )
    if len(bars) <= MAX_CANDLES:
        fig.add_trace(
            go.Candlestick(
                x=times,
                open=bars["open"],
                high=bars["high"],
                low=bars["low"],
                close=bars["close"],
                name="price",
                increasing={"line": {"color": GAIN, "width": 1}, "fillcolor": GAIN},
                decreasing={"line": {"color": LOSS, "width": 1}, "fillcolor": LOSS},
                showlegend=False,
            ),
            row=1,
            col=1,
        )
    else:
        step = _stride(len(bars))
        fig.add_trace(
            go.Scatter(
                x=times[::step],
                y=bars["close"].to_numpy()[::step],
                mode="lines",
                name="close",
                line={"color": "#555", "width": 1},
            ),
            row=1,
            col=1,
        )
    for trace in _trade_traces(report, times):
        fig.add_trace(trace, row=1, col=1)

    equity = report.equity_frame()
    step = _stride(len(equity))
    close = bars["close"].to_numpy()
    hold = report.settings.cash * close / close[0] if close[0] > 0 else None
    fig.add_trace(
        go.Scatter(
            x=times[::step],
            y=equity["equity"].to_numpy()[::step],
            mode="lines",
            name="strategy equity",
            line={"color": LONG, "width": 1.5},
        ),
        row=2,
        col=1,
    )
    if hold is not None:
        fig.add_trace(
            go.Scatter(
                x=times[::step],
                y=hold[::step],
                mode="lines",
                name="buy & hold",
                line={"color": "#999", "width": 1, "dash": "dot"},
            ),
            row=2,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=times[::step],
            y=equity["drawdown_pct"].to_numpy()[::step],
            mode="lines",
            name="drawdown",
            fill="tozeroy",
            line={"color": LOSS, "width": 1},
            fillcolor="rgba(215, 48, 39, 0.25)",
            showlegend=False,
        ),
        row=3,
        col=1,
    )
    fig.update_xaxes(rangeslider_visible=False)
    fig.update_yaxes(title_text="price", row=1, col=1)
    fig.update_yaxes(title_text="cash", tickformat=",.0f", row=2, col=1)
    fig.update_yaxes(title_text="%", ticksuffix=" %", row=3, col=1)
    fig.update_layout(
        height=820,
        margin={"l": 60, "r": 20, "t": 70, "b": 30},
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": 1.035, "yanchor": "bottom", "x": 0, "xanchor": "left"},
    )
    return fig


def monthly_figure(report: BacktestReport) -> Figure | None:
    """Year x month heatmap of monthly returns [%], red to green around 0, with a year column."""
    import plotly.graph_objects as go

    table = report.monthly_returns
    if table.empty:
        return None
    yearly = ((1.0 + table / 100.0).prod(axis=1, min_count=1) - 1.0) * 100.0
    z = np.column_stack([table.to_numpy(dtype=float), yearly.to_numpy(dtype=float)])
    cells = [[_cell(v) for v in row] for row in z]
    years = [str(y) for y in table.index]
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=[[v if math.isfinite(v) else None for v in row] for row in z.tolist()],
            x=[*_MONTHS, "Year"],
            y=years,
            text=cells,
            texttemplate="%{text}",
            hovertemplate="%{y} %{x}: %{text} %<extra></extra>",
            colorscale="RdYlGn",
            zmid=0,
            zmin=-bound,
            zmax=bound,
            colorbar={"title": {"text": "%"}, "ticksuffix": " %"},
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    fig.update_layout(
        height=max(220, 34 * len(years) + 90),
        margin={"l": 60, "r": 20, "t": 40, "b": 20},
        template="plotly_white",
    )
    return fig


def _trade_traces(report: BacktestReport, times: pd.DatetimeIndex) -> list[Any]:
    import plotly.graph_objects as go

    trades = report.trades_frame().tail(MAX_TRADE_MARKERS)
    if trades.empty:
        return []
    entry_t = times[trades["entry_idx"].to_numpy()]
    exit_t = times[trades["exit_idx"].to_numpy()]
    won = trades["pnl"].to_numpy() > 0
    hover = [
        f"{row.side} {format_time(row.entry_time)} → {format_time(row.exit_time)}<br>"
        f"{row.entry_price:,.2f} → {row.exit_price:,.2f}: {row.pnl_pct:+.2f} % "
        f"({row.pnl:+,.2f})<br>exit: {row.exit_reason}"
        for row in trades.itertuples()
    ]
    hover_arr = np.asarray(hover, dtype=object)
    traces: list[Any] = []
    # entries sit just below (long) / above (short) the entry bar so they do not hide the
    # previous trade's exit on the same bar; the hover text gives the fill price
    entry_idx = trades["entry_idx"].to_numpy()
    below = report.bars["low"].to_numpy()[entry_idx] * (1.0 - ENTRY_OFFSET)
    above = report.bars["high"].to_numpy()[entry_idx] * (1.0 + ENTRY_OFFSET)
    for side, symbol, colour, level in (
        ("long", "triangle-up", LONG, below),
        ("short", "triangle-down", SHORT, above),
    ):
        mask = (trades["side"] == side).to_numpy()
        if mask.any():
            traces.append(
                go.Scatter(
                    x=entry_t[mask],
                    y=level[mask],
                    mode="markers",
                    name=f"{side} entry",
                    marker={"symbol": symbol, "size": 10, "color": colour},
                    text=hover_arr[mask],
                    hovertemplate="%{text}<extra>entry</extra>",
                )
            )
    for label, mask, colour in (("winning exit", won, GAIN), ("losing exit", ~won, LOSS)):
        if mask.any():
            traces.append(
                go.Scatter(
                    x=exit_t[mask],
                    y=trades["exit_price"].to_numpy()[mask],
                    mode="markers",
                    name=label,
                    marker={
                        "symbol": "x",
                        "size": 9,
                        "color": colour,
                        "line": {"width": 1, "color": "#222"},
                    },
                    text=hover_arr[mask],
                    hovertemplate="%{text}<extra>exit</extra>",
                )
            )
    return traces


def _metrics_table(report: BacktestReport) -> str:
    from tradesweep.metrics import KEYS, LABELS, NULL_REASONS

    rows = []
    for key in KEYS:
        value = report.metrics.get(key)
        tone = metric_tone(key, value, initial_cash=report.settings.cash)
        text = format_metric(key, value)
        title = (
            f' title="{html.escape(NULL_REASONS.get(key, ""))}"'
            if text == MISSING and key in NULL_REASONS
            else ""
        )
        rows.append(
            f'<tr><th scope="row">{html.escape(LABELS[key])}</th>'
            f'<td class="num {tone or ""}"{title}>{html.escape(text)}</td></tr>'
        )
    return (
        '<table class="metrics"><thead><tr><th>metric</th><th>value</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _trades_table(report: BacktestReport) -> str:
    trades = report.trades_frame()
    if trades.empty:
        return '<p class="note">No closed trades.</p>'
    shown = trades.tail(MAX_TABLE_TRADES)
    note = (
        f'<p class="note">Showing the last {len(shown):,} of {len(trades):,} trades.</p>'
        if len(shown) < len(trades)
        else ""
    )
    headers = (
        "#",
        "side",
        "entry time",
        "entry price",
        "exit time",
        "exit price",
        "units",
        "pnl [cash]",
        "pnl [%]",
        "fees [cash]",
        "bars held",
        "exit reason",
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    rows = []
    for number, row in zip(shown.index, shown.itertuples(), strict=True):
        tone = "gain" if row.pnl > 0 else "loss" if row.pnl < 0 else ""
        cells = (
            (str(number + 1), "num"),
            (row.side, row.side),
            (format_time(row.entry_time), ""),
            (f"{row.entry_price:,.2f}", "num"),
            (format_time(row.exit_time), ""),
            (f"{row.exit_price:,.2f}", "num"),
            (f"{row.units:,.4g}", "num"),
            (f"{row.pnl:+,.2f}", f"num {tone}"),
            (f"{row.pnl_pct:+.2f}", f"num {tone}"),
            (f"{row.fees:,.2f}", "num"),
            (f"{row.bars_held:,}", "num"),
            (row.exit_reason, ""),
        )
        rows.append(
            "<tr>"
            + "".join(f'<td class="{cls}">{html.escape(text)}</td>' for text, cls in cells)
            + "</tr>"
        )
    return (
        f'{note}<table class="trades"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _subtitle(report: BacktestReport) -> str:
    m = report.metrics
    parts = [
        f"{format_metric('start', m.get('start'))} → {format_metric('end', m.get('end'))}",
        f"{format_metric('bars', m.get('bars'))} bars",
        f"data: {report.spec.data}",
        f"strategy: {report.spec.strategy}",
        f"spec {report.spec_id}",
    ]
    return html.escape(" · ".join(parts))


def _settings_line(report: BacktestReport) -> str:
    s = report.settings
    parts = [
        f"cash {s.cash:,.2f}",
        f"fees {s.fees * 100:g} %",
        f"fill {s.fill}",
        f"direction {s.direction}",
        f"size {s.size:g} ({s.size_type})",
    ]
    for name in (
        "fixed_fee",
        "slippage",
        "stop_loss",
        "stop_loss_atr",
        "take_profit",
        "take_profit_atr",
        "trailing_stop",
        "trailing_stop_atr",
        "max_drawdown",
    ):
        value = getattr(s, name)
        if value:
            shown = f"{value:g}×ATR({s.atr_period})" if name.endswith("_atr") else f"{value:g}"
            if name in ("slippage", "stop_loss", "take_profit", "trailing_stop", "max_drawdown"):
                shown = f"{value * 100:g} %"
            parts.append(f"{name.replace('_', ' ')} {shown}")
    if not s.fractional:
        parts.append("whole units")
    if not s.close_at_end:
        parts.append("last position left open")
    return html.escape("Settings: " + ", ".join(parts))


def _naive_utc(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    return idx.tz_convert("UTC").tz_localize(None) if idx.tz is not None else idx


def _stride(n: int) -> int:
    return max(1, math.ceil(n / MAX_POINTS))


def _cell(value: float) -> str:
    return f"{value:+.1f}" if math.isfinite(value) else ""


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { padding: 18px 28px 8px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.1rem; margin: 24px 0 8px; }
.sub { color: #555; margin: 2px 0; font-size: 0.9rem; }
main { padding: 0 28px 28px; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px 14px;
          margin-top: 16px; }
.grid { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 16px; }
.grid > section { min-width: 0; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.gain { color: #1a7f3c; font-weight: 600; }
.loss { color: #c0392b; font-weight: 600; }
td.long { color: #2166ac; }
td.short { color: #8e44ad; }
.scroll { max-height: 520px; overflow: auto; }
.note { color: #666; font-size: 0.85rem; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · tradesweep backtest</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="sub">{subtitle}</p>
<p class="sub">{settings}</p>
</header>
<main>
<section><h2>Price, trades, equity and drawdown</h2>
<p class="note">Triangles mark entries, under the bar for a long (blue), over it for a short
(purple); crosses mark exits at their fill price, green for a winning trade, red for a losing one.
Hover a marker for the trade. Prices in the data's currency; equity in cash.</p>
{charts}</section>
<section><h2>Monthly returns [%]</h2>{monthly}</section>
<div class="grid">
<section><h2>Metrics</h2>{metrics}</section>
<section><h2>Trades</h2><div class="scroll">{trades}</div></section>
</div>
</main>
</body>
</html>
"""
