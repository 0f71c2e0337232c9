// One backtest: headline metrics, price candles with entries and exits, equity and drawdown,
// monthly returns, the trades and every metric. Reads GET /api/v1/backtests/{id} (metrics,
// trades, spec) and GET /api/v1/backtests/{id}/series (bars, equity, drawdown, months).

import { api } from "../api.js";
import { h, add, clear, stat } from "../dom.js";
import { barTime, dateTime, fractionPct, int, metric, num, params as paramText, pct, tone } from "../format.js";
import { catalog as loadCatalog, label } from "../state.js";
import { dataTable } from "../table.js";
import { candles, equityDrawdown, purge } from "../charts.js";
import { loading, pageHead } from "../ui.js";

const HEADLINE = ["total_return_pct", "annualized_return_pct", "sharpe_ratio", "max_drawdown_pct", "total_trades", "win_rate_pct", "profit_factor", "buy_and_hold_return_pct"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function monthlyTable(months) {
  const years = [...new Set(months.map((m) => m.year))].sort();
  const at = new Map(months.map((m) => [`${m.year}-${m.month}`, m.return_pct]));
  const maxAbs = Math.max(1, ...months.map((m) => Math.abs(m.return_pct)));
  const shade = (v) => {
    const a = Math.min(0.55, 0.08 + (0.47 * Math.abs(v)) / maxAbs);
    return v >= 0 ? `rgba(17,122,58,${a})` : `rgba(194,42,42,${a})`;
  };
  const rows = years.map((y) => {
    let compound = 1;
    const cells = MONTHS.map((_, i) => {
      const v = at.get(`${y}-${i + 1}`);
      if (v === undefined) return h("td", { class: "empty", "data-label": MONTHS[i] }, "·");
      compound *= 1 + v / 100;
      const td = h("td", { class: tone(v), "data-label": MONTHS[i], title: `${MONTHS[i]} ${y}: ${pct(v)}` }, num(v, 1));
      td.style.background = shade(v);
      td.style.color = "#10161f";
      return td;
    });
    const year = (compound - 1) * 100;
    return h("tr", {}, h("th", { scope: "row" }, String(y)), cells, h("td", { class: tone(year), "data-label": "Year", style: "font-weight:650" }, pct(year, { digits: 1 })));
  });
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "monthly", "aria-label": "Monthly returns in percent" },
      h("caption", {}, "Return of each month in %, compounded from month-end equity; the last column is the year."),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Year"), MONTHS.map((m) => h("th", { scope: "col", class: "num" }, m)), h("th", { scope: "col", class: "num" }, "Year"))),
      h("tbody", {}, rows)),
  );
}

function tradesTable(trades) {
  const cols = [
    { key: "seq", label: "#", num: true, render: (t) => String(t.seq + 1) },
    { key: "side", label: "Side" },
    { key: "entry_time", label: "Entry", render: (t) => barTime(t.entry_time) },
    { key: "entry_price", label: "Entry price", num: true, render: (t) => num(t.entry_price, 4) },
    { key: "exit_time", label: "Exit", render: (t) => barTime(t.exit_time) },
    { key: "exit_price", label: "Exit price", num: true, render: (t) => num(t.exit_price, 4) },
    { key: "pnl_pct", label: "Return [%]", num: true, render: (t) => ({ text: pct(t.pnl_pct), cls: tone(t.pnl_pct) }) },
    { key: "pnl", label: "P&L [cash]", num: true, render: (t) => ({ text: num(t.pnl, 2), cls: tone(t.pnl) }) },
    { key: "fees", label: "Fees [cash]", num: true, render: (t) => num(t.fees, 2) },
    { key: "bars_held", label: "Bars held", num: true, render: (t) => int(t.bars_held) },
    { key: "exit_reason", label: "Exit reason" },
  ];
  return dataTable({ columns: cols, rows: trades, pageSize: 25, name: "trades", caption: `${int(trades.length)} closed trades.`, stack: true, sort: { key: "seq", dir: "asc" } }).el;
}

/** Every metric with its label, in two side-by-side tables on wide screens. */
function metricsTable(metrics, cat) {
  const rows = cat.metrics.filter((m) => m.key in metrics && m.key !== "score").map((m) => {
    const f = metric(cat, m.key, metrics[m.key]);
    const why = metrics[m.key] === null && m.null_reason ? `undefined: ${m.null_reason}` : null;
    return h("tr", {}, h("th", { scope: "row" }, m.label), h("td", { class: `num ${f.cls}`, title: why }, f.text));
  });
  const half = Math.ceil(rows.length / 2);
  const part = (list, name) => h("div", { class: "table-wrap" }, h("table", { "aria-label": name }, h("tbody", {}, list)));
  return h("div", { class: "grid two" }, part(rows.slice(0, half), "Metrics, first half"), part(rows.slice(half), "Metrics, second half"));
}

/** A stored trade with its side and exit reason as names (the store keeps the engine's codes). */
function readable(trade, cat) {
  const side = typeof trade.side === "number" ? cat.trade_sides[String(trade.side)] || String(trade.side) : trade.side;
  const reason = typeof trade.exit_reason === "number" ? cat.exit_reasons[trade.exit_reason] || String(trade.exit_reason) : trade.exit_reason;
  return { ...trade, side, exit_reason: reason };
}

function settingsText(spec) {
  const s = spec.settings || {};
  const parts = [`fees ${fractionPct(s.fees)}`, `slippage ${fractionPct(s.slippage)}`, `fill ${s.fill}`, `${String(s.direction || "").replace("_", " ")}`];
  if (s.stop_loss) parts.push(`stop-loss ${fractionPct(s.stop_loss)}`);
  if (s.take_profit) parts.push(`take-profit ${fractionPct(s.take_profit)}`);
  if (s.trailing_stop) parts.push(`trailing stop ${fractionPct(s.trailing_stop)}`);
  if (s.max_drawdown) parts.push(`drawdown guard ${fractionPct(s.max_drawdown)}`);
  return parts.join(" · ");
}

export async function render(main, { params }) {
  const [id] = params;
  add(main, loading("Loading the backtest…"));
  const [run, series, cat] = await Promise.all([
    api(`/api/v1/backtests/${encodeURIComponent(id)}`),
    api(`/api/v1/backtests/${encodeURIComponent(id)}/series`),
    loadCatalog(),
  ]);
  clear(main);
  const trades = run.trades.map((t) => readable(t, cat));
  const m = run.metrics || {};
  const spec = run.spec || {};
  const priceChart = h("div", { class: "chart tall", id: "price-chart", role: "img", "aria-label": `Price of ${run.ticker} with the entries and exits of the trades` });
  const equityChart = h("div", { class: "chart", id: "equity-chart", role: "img", "aria-label": "Equity and drawdown over time" });
  const headline = HEADLINE.filter((k) => k in m).map((k) => {
    const f = metric(cat, k, m[k]);
    return stat(label(cat, k), f.text, f.cls);
  });
  add(main, 
    pageHead(
      `${run.ticker} · ${run.strategy}`,
      `${paramText(spec.params)} · ${barTime(m.start)} → ${barTime(m.end)} · ${int(m.bars)} bars · run ${dateTime(run.created_at)}`,
      h("a", { class: "button secondary", href: `#/backtests/new?ticker=${encodeURIComponent(run.ticker)}&strategy=${encodeURIComponent(run.strategy)}` }, "New backtest"),
      run.job_id ? h("a", { class: "button secondary", href: `#/jobs/${run.job_id}` }, "Job") : null,
    ),
    h("p", { class: "muted small" }, `Settings: ${settingsText(spec)} · starting cash ${num((spec.settings || {}).cash, 0)}`),
    series.note ? h("div", { class: "alert warn" }, series.note) : null,
    h("div", { class: "stats" }, headline),
    h("section", { class: "card" }, h("h2", {}, "Price, entries and exits"), series.bucket_bars > 1 ? h("p", { class: "small muted" }, `Each candle merges ${series.bucket_bars} bars (${int(series.bars)} bars in all).`) : null, priceChart),
    h("section", { class: "card" }, h("h2", {}, "Equity and drawdown"), equityChart),
    h("section", { class: "card" }, h("h2", {}, "Monthly returns"), series.monthly_returns.length ? monthlyTable(series.monthly_returns) : h("p", { class: "muted" }, "No complete month.")),
    h("section", { class: "card" }, h("h2", {}, "Trades"), trades.length ? tradesTable(trades) : h("p", { class: "muted" }, "No closed trade.")),
    h("section", { class: "card" }, h("h2", {}, "All metrics"), metricsTable(m, cat)),
  );
  await Promise.all([candles(priceChart, series, trades), equityDrawdown(equityChart, series)]);
  return () => {
    purge(priceChart);
    purge(equityChart);
  };
}
