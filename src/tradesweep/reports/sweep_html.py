"""Sweeps and walk-forward runs as self-contained, offline HTML files.

Like the backtest report, each page inlines plotly's JavaScript once (from the plotly Python
package, no CDN) and fetches nothing. A sweep page has a heatmap of the objective over two
parameters, the top results and the overfitting diagnostics; a walk-forward page has the
stitched out-of-sample equity with the test windows shaded and one row per window.

Heatmap rule: each cell is the **best** objective over the other parameters' values at that
pair (a profile of the landscape; with two swept parameters it is simply the grid). Only ranked
rows count; cells with none are blank. The winner is starred.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tradesweep.errors import ParameterError
from tradesweep.metrics.names import keys_shown_in
from tradesweep.reports.format import MISSING, format_metric, format_time, metric_tone

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

    from tradesweep.sweep.runner import SweepResult
    from tradesweep.sweep.walkforward import WalkForwardResult

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
_TABLE_METRICS = keys_shown_in("sweep_report")
_WINNER = "#111"


def write_sweep_html(
    result: SweepResult, path: str | Path, *, heatmap: tuple[str, str] | None = None
) -> Path:
    """Write :func:`render_sweep_html` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(render_sweep_html(result, heatmap=heatmap), encoding="utf-8")
    return target


def render_sweep_html(result: SweepResult, *, heatmap: tuple[str, str] | None = None) -> str:
    """The sweep page. ``heatmap`` names the two parameters on the axes (default: the first two
    swept); with one swept parameter the chart is the objective along it."""
    spec = result.spec
    figure = landscape_figure(result, heatmap)
    chart = (
        figure.to_html(
            full_html=False, include_plotlyjs=True, div_id="ts-landscape", config=_PLOTLY_CONFIG
        )
        if figure is not None
        else '<p class="note">Nothing to chart: no parameter was swept or nothing was ranked.</p>'
    )
    valid = "?" if result.valid_combinations is None else f"{result.valid_combinations:,}"
    subtitle = (
        f"{spec.search} search · {result.grid_combinations:,} combinations, {valid} valid, "
        f"{result.evaluated:,} evaluated in {result.elapsed_seconds:.2f} s ({result.path}) · "
        f"ranked by {spec.objective}, min_trades {spec.min_trades} · spec {spec.spec_id}"
    )
    return _PAGE.format(
        title=html.escape(f"{spec.data} · {spec.strategy} sweep"),
        subtitle=html.escape(subtitle),
        settings=html.escape(_settings_line(result.settings, spec.preset)),
        chart_title=html.escape(_chart_title(result, heatmap)),
        chart=chart,
        body=_diagnostics_box(result) + _results_table(result),
        css=_CSS,
    )


def landscape_figure(result: SweepResult, heatmap: tuple[str, str] | None = None) -> Figure | None:
    """Heatmap of the objective over two parameters (or a line over one); None when nothing
    was swept or ranked. Raises ParameterError for a heatmap axis that was not swept."""
    import plotly.graph_objects as go

    axes = _axes(result, heatmap)
    ranked = result.ranked
    if not axes or ranked.empty:
        return None
    objective = result.spec.objective
    values = pd.to_numeric(ranked[objective]).astype(np.float64)
    winner = result.winner or {}
    fig = go.Figure()
    if len(axes) == 1:
        (x,) = axes
        best = values.groupby(ranked[x].to_numpy()).max().sort_index()
        fig.add_trace(
            go.Scatter(x=best.index, y=best.to_numpy(), mode="lines+markers", name=objective)
        )
        fig.add_trace(_winner_marker([winner.get(x)], [float(values.iloc[0])]))
        fig.update_xaxes(title_text=x)
        fig.update_yaxes(title_text=objective)
    else:
        x, y = axes
        grid = (
            pd.DataFrame({"x": ranked[x].to_numpy(), "y": ranked[y].to_numpy(), "z": values})
            .pivot_table(index="y", columns="x", values="z", aggfunc="max")
            .sort_index()
            .sort_index(axis=1)
        )
        z = grid.to_numpy(dtype=np.float64)
        finite = z[np.isfinite(z)]
        straddles = finite.size and finite.min() < 0 < finite.max()
        fig.add_trace(
            go.Heatmap(
                x=grid.columns.to_numpy(),
                y=grid.index.to_numpy(),
                z=[[v if math.isfinite(v) else None for v in row] for row in z.tolist()],
                colorscale="RdYlGn",
                zmid=0 if straddles else None,
                colorbar={"title": {"text": objective}},
                hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>{objective}=%{{z:.3f}}<extra></extra>",
                hoverongaps=False,
            )
        )
        fig.add_trace(_winner_marker([winner.get(x)], [winner.get(y)]))
        fig.update_xaxes(title_text=x)
        fig.update_yaxes(title_text=y)
    fig.update_layout(
        height=520,
        margin={"l": 70, "r": 20, "t": 20, "b": 60},
        template="plotly_white",
        showlegend=False,
    )
    return fig


def _winner_marker(x: list[Any], y: list[Any]) -> Any:
    import plotly.graph_objects as go

    return go.Scatter(
        x=x,
        y=y,
        mode="markers",
        name="winner",
        marker={
            "symbol": "star",
            "size": 16,
            "color": "#fff",
            "line": {"width": 2, "color": _WINNER},
        },
        hovertemplate="winner<extra></extra>",
    )


def _axes(result: SweepResult, heatmap: tuple[str, str] | None) -> tuple[str, ...]:
    if heatmap is None:
        return tuple(result.swept[:2])
    for name in heatmap:
        if name not in result.swept:
            raise ParameterError(
                f"--heatmap names '{name}', which this sweep does not vary",
                fix=f"choose two of the swept parameters: {', '.join(result.swept) or '(none)'}",
                parameter=name,
            )
    return tuple(heatmap)


def _chart_title(result: SweepResult, heatmap: tuple[str, str] | None) -> str:
    axes = _axes(result, heatmap)
    objective = result.spec.objective
    if len(axes) == 2:
        others = [p for p in result.swept if p not in axes]
        rest = f" (best over {', '.join(others)})" if others else ""
        return f"{objective} over {axes[0]} × {axes[1]}{rest}; ★ winner"
    if len(axes) == 1:
        return f"{objective} along {axes[0]}; ★ winner"
    return f"{objective} landscape"


def _diagnostics_box(result: SweepResult) -> str:
    d = result.diagnostics_dict()
    dsr, stability, pbo = d["deflated_sharpe"], d["stability"], d["pbo"]
    winner = result.winner
    items = [
        (
            "Winner",
            ", ".join(f"{k}={v:g}" for k, v in winner.items() if k in result.swept)
            if winner
            else MISSING,
            "rank 1 by " + result.spec.objective,
        ),
        (
            "Deflated Sharpe ratio",
            _number(dsr.get("dsr")),
            f"probability that the winner's Sharpe ratio beats the best of "
            f"{dsr.get('n_trials', '?')} skill-less trials (≥ 0.95 is convincing)"
            if dsr.get("dsr") is not None
            else dsr.get("reason") or "",
        ),
        (
            "Parameter stability",
            _number(stability.get("ratio")),
            f"mean {result.spec.objective} of {len(stability.get('neighbours') or [])} grid "
            "neighbours / the winner's (near 1: a plateau; far below 1: a lone spike)"
            if stability.get("ratio") is not None
            else stability.get("reason") or "",
        ),
        (
            "Probability of backtest overfitting",
            _number(pbo.get("pbo")),
            f"share of {pbo.get('n_splits', 0):,} CSCV splits whose in-sample best lands at or "
            "below the out-of-sample median (0.5: noise; near 0: robust)"
            if pbo.get("pbo") is not None
            else pbo.get("reason") or "",
        ),
    ]
    if d.get("search_note"):
        items.append(("Search", "", d["search_note"]))
    rows = "".join(
        f'<tr><th scope="row">{html.escape(name)}</th><td class="num">{html.escape(value)}</td>'
        f"<td>{html.escape(text)}</td></tr>"
        for name, value, text in items
    )
    return f'<h2>Diagnostics</h2><table class="diagnostics"><tbody>{rows}</tbody></table>'


def _results_table(result: SweepResult) -> str:
    from tradesweep.metrics import LABELS

    spec = result.spec
    rows = result.rows(spec.top)
    if not rows:
        return '<h2>Top results</h2><p class="note">No combination was ranked.</p>'
    params = list(result.swept or result.params)
    metrics = [m for m in _TABLE_METRICS if m != spec.objective]
    columns = ["score", *([spec.objective] if spec.objective != "score" else []), *metrics]
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ("rank", *params, *(LABELS.get(c, c) for c in columns))
    )
    body = []
    for row in rows:
        values = {"score": row["score"], **row["metrics"]}
        cells = [f'<td class="num">{row["rank"]}</td>']
        cells += [f'<td class="num">{row["params"][p]:g}</td>' for p in params]
        for c in columns:
            tone = metric_tone(c, values.get(c), initial_cash=result.settings.cash) or ""
            text = format_metric(c, values.get(c))
            cells.append(f'<td class="num {tone}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    unranked = len(result.results) - len(result.ranked)
    note = (
        f'<p class="note">{unranked:,} evaluated combinations are not ranked '
        f"({html.escape(result.unranked_reason)}).</p>"
        if unranked
        else ""
    )
    return (
        f"<h2>Top {len(rows)} results</h2>{note}"
        f'<table class="results"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


# ---- walk-forward ----------------------------------------------------------------------------


def write_walkforward_html(result: WalkForwardResult, path: str | Path) -> Path:
    """Write :func:`render_walkforward_html` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(render_walkforward_html(result), encoding="utf-8")
    return target


def render_walkforward_html(result: WalkForwardResult) -> str:
    """Stitched out-of-sample equity (test windows shaded), per-window table, overall metrics."""
    spec = result.spec
    figure = walkforward_figure(result)
    chart = figure.to_html(
        full_html=False, include_plotlyjs=True, div_id="ts-walkforward", config=_PLOTLY_CONFIG
    )
    kind = "anchored" if spec.anchored else "rolling"
    subtitle = (
        f"{kind} walk-forward · {len(result.windows)} windows of {spec.train_bars:,} training / "
        f"{spec.test_bars:,} test bars, step {spec.step_bars:,} · {spec.sweep.search} search "
        f"ranked by {spec.sweep.objective} · spec {spec.spec_id}"
    )
    efficiency = f"{result.efficiency:.2f}" if result.efficiency is not None else MISSING
    why = (
        "out-of-sample annualised return / mean in-sample annualised return of the winners "
        f"({_pct(result.metrics.get('annualized_return_pct'))} / "
        f"{_pct(result.in_sample_annualized_return_pct)})"
        if result.efficiency is not None
        else result.efficiency_reason or ""
    )
    summary = (
        '<h2>Out of sample</h2><table class="diagnostics"><tbody>'
        f'<tr><th scope="row">Walk-forward efficiency</th><td class="num">{efficiency}</td>'
        f"<td>{html.escape(why)}</td></tr>"
        + "".join(
            f'<tr><th scope="row">{html.escape(_label(k))}</th>'
            f'<td class="num {metric_tone(k, result.metrics.get(k)) or ""}">'
            f"{html.escape(format_metric(k, result.metrics.get(k)))}</td><td></td></tr>"
            for k in (
                "total_return_pct",
                "annualized_return_pct",
                "sharpe_ratio",
                "max_drawdown_pct",
                "total_trades",
                "win_rate_pct",
            )
        )
        + "</tbody></table>"
    )
    return _PAGE.format(
        title=html.escape(f"{spec.sweep.data} · {spec.sweep.strategy} walk-forward"),
        subtitle=html.escape(subtitle),
        settings=html.escape(_settings_line(spec.sweep.settings, spec.sweep.preset)),
        chart_title="Stitched out-of-sample equity (test windows shaded)",
        chart=chart,
        body=summary + _windows_table(result),
        css=_CSS,
    )


def walkforward_figure(result: WalkForwardResult) -> Figure:
    import plotly.graph_objects as go

    equity = result.equity
    times = _naive_utc(equity.index)
    fig = go.Figure(
        go.Scatter(x=times, y=equity.to_numpy(), mode="lines", name="equity", line={"width": 1.5})
    )
    for k, w in enumerate(result.windows):
        start, end = _naive_utc(w.index[:1])[0], _naive_utc(w.index[-1:])[0]
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor="#4575b4" if k % 2 == 0 else "#91bfdb",
            opacity=0.08,
            line_width=0,
        )
    fig.update_yaxes(title_text="equity [cash]")
    fig.update_layout(
        height=420,
        margin={"l": 70, "r": 20, "t": 20, "b": 40},
        template="plotly_white",
        showlegend=False,
    )
    return fig


def _windows_table(result: WalkForwardResult) -> str:
    objective = result.spec.sweep.objective
    swept = [k for k in result.spec.sweep.ranges]
    headers = (
        "#",
        "train",
        "test",
        "parameters",
        f"IS {objective}",
        "IS return [%/yr]",
        "OOS return [%]",
        "OOS Sharpe",
        "OOS trades",
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    rows = []
    for w in result.windows:
        params = (
            ", ".join(f"{k}={v:g}" for k, v in w.params.items() if k in swept)
            if w.params
            else "(stayed in cash)"
        )
        oos, ins = w.out_of_sample, w.in_sample
        cells = (
            (str(w.window.number), "num"),
            (f"{format_time(w.train_index[0])} → {format_time(w.train_index[-1])}", ""),
            (f"{format_time(w.index[0])} → {format_time(w.index[-1])}", ""),
            (params, ""),
            (format_metric(objective, ins.get(objective)), "num"),
            (format_metric("annualized_return_pct", ins.get("annualized_return_pct")), "num"),
            (
                format_metric("total_return_pct", oos.get("total_return_pct")),
                f"num {metric_tone('total_return_pct', oos.get('total_return_pct')) or ''}",
            ),
            (format_metric("sharpe_ratio", oos.get("sharpe_ratio")), "num"),
            (format_metric("total_trades", oos.get("total_trades")), "num"),
        )
        rows.append(
            "<tr>" + "".join(f'<td class="{c}">{html.escape(t)}</td>' for t, c in cells) + "</tr>"
        )
    return (
        f'<h2>Windows</h2><table class="results"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# ---- shared ----------------------------------------------------------------------------------


def _settings_line(settings: Any, preset: str | None) -> str:
    parts = [
        f"cash {settings.cash:,.2f}",
        f"fees {settings.fees * 100:g} %",
        f"slippage {settings.slippage * 100:g} %",
        f"fill {settings.fill}",
        f"direction {settings.direction}",
    ]
    if preset:
        parts.insert(0, f"preset {preset}")
    return "Settings: " + ", ".join(parts)


def _label(key: str) -> str:
    from tradesweep.metrics import LABELS

    return LABELS.get(key, key)


def _number(value: Any) -> str:
    return MISSING if value is None or not math.isfinite(value) else f"{value:.3f}"


def _pct(value: Any) -> str:
    return MISSING if value is None else f"{value:+.2f} %"


def _naive_utc(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    return idx.tz_convert("UTC").tz_localize(None) if idx.tz is not None else idx


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { padding: 18px 28px 8px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.1rem; margin: 24px 0 8px; }
main { padding: 0 28px 28px; }
.sub, .settings, .note { color: #555; font-size: 0.9rem; margin: 2px 0; }
section.chart { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px;
                margin-top: 16px; }
table { border-collapse: collapse; background: #fff; font-size: 0.88rem; }
th, td { border: 1px solid #e2e2e2; padding: 4px 8px; text-align: left; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.gain { color: #1a9850; } td.loss { color: #d73027; }
table.diagnostics th { white-space: nowrap; }
table.diagnostics td:last-child { color: #444; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="sub">{subtitle}</p>
<p class="settings">{settings}</p>
</header>
<main>
<section class="chart">
<h2>{chart_title}</h2>
{chart}
</section>
{body}
</main>
</body>
</html>
"""
