// A sweep's result: the winner with the overfitting diagnostics next to it, the full ranked
// table (sortable, every metric, rows below min_trades flagged), a heatmap of any metric over
// two parameters, the CSV. Clicking a row (or a heatmap cell) backtests that combination.

import { api } from "../api.js";
import { h, add, clear, field, stat } from "../dom.js";
import { go } from "../app.js";
import { date, dateTime, fractionPct, int, isNum, metric, num, pct } from "../format.js";
import { catalog as loadCatalog, datasets as loadDatasets, label, strategies as loadStrategies } from "../state.js";
import { dataTable } from "../table.js";
import { heatmap, line, purge } from "../charts.js";
import { errorBox, flash, loading, pageHead } from "../ui.js";

const PAGE = 5000;
const MAX_ROWS = 50000;
/** Run-level values, the same on every row: shown once above the table, not per row. */
const RUN_LEVEL = new Set(["start", "end", "bars", "periods_per_year", "avg_trade_duration"]);
const HEAT_METRICS = ["score", "sharpe_ratio", "sortino_ratio", "calmar_ratio", "total_return_pct", "annualized_return_pct", "max_drawdown_pct", "profit_factor", "win_rate_pct", "total_trades"];
const SIGNED = new Set(["score", "sharpe_ratio", "sortino_ratio", "calmar_ratio", "total_return_pct", "annualized_return_pct"]);

async function allRows(id) {
  const rows = [];
  let cursor = null;
  let total = 0;
  do {
    const page = await api(`/api/v1/sweeps/${encodeURIComponent(id)}/results`, { query: { limit: PAGE, cursor } });
    rows.push(...page.results);
    total = page.total_results;
    cursor = page.next_cursor;
  } while (cursor && rows.length < MAX_ROWS);
  return { rows, total };
}

/** A combination split into the strategy's parameters and the engine settings it swept
 * (stop_loss, size, ...: the names that are not the strategy's). */
async function splitCombination(run, combination) {
  const known = await loadStrategies();
  const s = known.find((x) => x.name === run.strategy || x.strategy_type === run.strategy);
  const own = new Set(s ? s.parameters.map((p) => p.name) : Object.keys(combination));
  const parameters = {};
  const settings = {};
  for (const [name, value] of Object.entries(combination)) (own.has(name) ? parameters : settings)[name] = value;
  return { parameters, settings };
}

/** Queue a backtest of one combination with the sweep's own settings (and the combination's
 * swept settings over them); open it when done. */
export async function openBacktest(run, combination, button) {
  if (button) button.disabled = true;
  const spec = run.spec || {};
  try {
    const { parameters, settings } = await splitCombination(run, combination);
    const body = { ticker: run.ticker, strategy_type: run.strategy, parameters, settings: { ...spec.settings, ...settings } };
    if (isNum(spec.periods_per_year)) body.periods_per_year = spec.periods_per_year;
    if (isNum(spec.risk_free_rate) && spec.risk_free_rate !== 0) body.risk_free_rate = spec.risk_free_rate;
    const job = await api("/api/v1/backtests", { method: "POST", json: body });
    go(`/jobs/${job.job_id}?open=1`);
  } catch (error) {
    flash(error.message, { error: true });
    if (button) button.disabled = false;
  }
}

function diagnostic(title, value, tone, text, reason) {
  return h(
    "div",
    { class: "stat", "data-diagnostic": title },
    h("div", { class: "label" }, title),
    h("div", { class: `value ${tone}` }, value),
    h("p", { class: "small muted", style: "margin:0.25rem 0 0" }, reason || text),
  );
}

function diagnostics(diag) {
  const d = diag.deflated_sharpe || {};
  const s = diag.stability || {};
  const p = diag.pbo || {};
  const dsrTone = !isNum(d.dsr) ? "" : d.dsr >= 0.95 ? "gain" : d.dsr < 0.5 ? "loss" : "";
  const stTone = !isNum(s.ratio) ? "" : s.ratio >= 0.7 ? "gain" : s.ratio < 0.3 ? "loss" : "";
  const pboTone = !isNum(p.pbo) ? "" : p.pbo <= 0.25 ? "gain" : p.pbo > 0.5 ? "loss" : "";
  return h(
    "section",
    { class: "card", "aria-labelledby": "diag-title" },
    h("h2", { id: "diag-title" }, "Can the winner be trusted?"),
    h(
      "div",
      { class: "stats", style: "margin:0" },
      diagnostic("Deflated Sharpe ratio", isNum(d.dsr) ? pct(d.dsr * 100, { signed: false, digits: 1 }) : "—", dsrTone,
        `Probability that the winner's true Sharpe ratio is above zero once the ${int(d.n_trials)} trials are accounted for (95 % or more: strong).`, d.reason),
      diagnostic("Parameter stability", isNum(s.ratio) ? num(s.ratio, 2) : "—", stTone,
        "Neighbours' mean score over the winner's: near 1 is a plateau, far below 1 a lone spike fitted to noise.", s.reason),
      diagnostic("Probability of overfitting", isNum(p.pbo) ? pct(p.pbo * 100, { signed: false, digits: 1 }) : "—", pboTone,
        `Share of ${int(p.n_splits)} data splits where the in-sample winner falls to the bottom half out of sample (above 50 %: likely overfit).`, p.reason),
    ),
  );
}

function winnerCard(run, best, cat) {
  if (!best) return h("section", { class: "card" }, h("h2", {}, "Winner"), h("p", { class: "muted" }, `No combination was ranked: none reached ${run.spec.min_trades} trades with a defined score.`));
  const show = ["score", "sharpe_ratio", "total_return_pct", "max_drawdown_pct", "total_trades", "win_rate_pct"];
  return h(
    "section",
    { class: "card", "aria-labelledby": "winner-title" },
    h("div", { class: "page-head", style: "margin-bottom:0.5rem" },
      h("div", {}, h("h2", { id: "winner-title" }, "Winner (rank 1)"), h("div", {}, Object.entries(best.parameters).map(([k, v]) => h("span", { class: "chip" }, `${k} = ${v}`)))),
      h("button", { type: "button", "data-action": "winner-backtest", onclick: (e) => openBacktest(run, best.parameters, e.currentTarget) }, "Open its backtest")),
    h("div", { class: "stats", style: "margin:0" }, show.map((key) => {
      const m = metric(cat, key, best[key]);
      return stat(label(cat, key), m.text, m.cls);
    })),
  );
}

function columnsFor(run, rows, cat) {
  const first = rows[0] || { parameters: {} };
  const names = Object.keys(first.parameters);
  const minTrades = run.spec.min_trades;
  const columns = [
    {
      key: "rank",
      label: "Rank",
      num: true,
      value: (r) => r.rank,
      render: (r) => {
        if (isNum(r.rank)) return String(r.rank);
        const few = !isNum(r.total_trades) || r.total_trades < minTrades;
        return h("span", { class: "badge flag", title: few ? `fewer than min_trades = ${minTrades} trades: kept but not ranked` : "undefined score: not ranked" }, few ? `< ${minTrades} trades` : "no score");
      },
    },
    ...names.map((n) => ({ key: `param:${n}`, label: n, num: true, value: (r) => r.parameters[n], render: (r) => String(r.parameters[n]) })),
  ];
  const keys = cat.metrics.map((m) => m.key).filter((k) => k in first && !RUN_LEVEL.has(k));
  const ordered = ["score", ...keys.filter((k) => k !== "score")];
  for (const key of ordered) {
    columns.push({ key, label: label(cat, key), num: true, title: cat.nullReasons[key] ? `null when: ${cat.nullReasons[key]}` : null, render: (r) => metric(cat, key, r[key]) });
  }
  return columns;
}

function heatmapPanel(run, rows, cat) {
  const names = Object.keys((rows[0] || { parameters: {} }).parameters).filter((n) => new Set(rows.map((r) => r.parameters[n])).size > 1);
  const panel = h("div");
  if (!names.length) {
    panel.append(h("p", { class: "muted" }, "Only one combination: nothing to map."));
    return { el: panel, draw: () => {} };
  }
  const xSel = h("select", { name: "heat_x" }, names.map((n, i) => h("option", { value: n, selected: i === 0 }, n)));
  const ySel = h("select", { name: "heat_y" }, names.map((n, i) => h("option", { value: n, selected: i === Math.min(1, names.length - 1) }, n)));
  const metrics = HEAT_METRICS.filter((k) => k in rows[0]);
  const zSel = h("select", { name: "heat_metric" }, metrics.map((k) => h("option", { value: k }, label(cat, k))));
  const chart = h("div", { class: "chart tall", id: "heatmap", role: "img", "aria-label": "Heatmap of the chosen metric over two parameters" });
  const note = h("p", { class: "small muted" });
  const controls = h("div", { class: "chart-controls" }, field({ label: "Across (x)", control: xSel, name: "heat_x" }), names.length > 1 ? field({ label: "Down (y)", control: ySel, name: "heat_y" }) : null, field({ label: "Colour", control: zSel, name: "heat_metric" }));

  async function draw() {
    const [xn, yn, key] = [xSel.value, ySel.value, zSel.value];
    const title = label(cat, key);
    if (names.length === 1 || xn === yn) {
      const xs = [...new Set(rows.map((r) => r.parameters[xn]))].sort((a, b) => a - b);
      const best = xs.map((x) => Math.max(...rows.filter((r) => r.parameters[xn] === x && isNum(r[key])).map((r) => r[key])));
      note.textContent = `Best ${title} for each ${xn}${names.length > 1 ? " over the other parameters" : ""}.`;
      await line(chart, { x: xs, y: best.map((v) => (Number.isFinite(v) ? v : null)), xTitle: xn, yTitle: title });
      return;
    }
    const xs = [...new Set(rows.map((r) => r.parameters[xn]))].sort((a, b) => a - b);
    const ys = [...new Set(rows.map((r) => r.parameters[yn]))].sort((a, b) => a - b);
    const cells = new Map();
    for (const r of rows) {
      if (!isNum(r[key])) continue;
      const k = `${r.parameters[xn]}|${r.parameters[yn]}`;
      const seen = cells.get(k);
      if (!seen || r[key] > seen[key]) cells.set(k, r);
    }
    const z = ys.map((y) => xs.map((x) => (cells.has(`${x}|${y}`) ? cells.get(`${x}|${y}`)[key] : null)));
    const values = z.flat().filter(isNum);
    const diverging = SIGNED.has(key) && values.some((v) => v < 0) && values.some((v) => v > 0);
    note.textContent = `${title} for each ${xn} × ${yn}${names.length > 2 ? ", the best over the other parameters" : ""}; empty cells are invalid or undefined. Click a cell to backtest it.`;
    await heatmap(chart, {
      x: xs, y: ys, z, xTitle: xn, yTitle: yn, zTitle: title, diverging,
      onClick: ({ x, y }) => {
        const row = cells.get(`${x}|${y}`);
        if (row) openBacktest(run, row.parameters, null);
      },
    });
  }
  for (const sel of [xSel, ySel, zSel]) sel.addEventListener("change", draw);
  panel.append(controls, chart, note);
  return { el: panel, draw, chart };
}

function tabs(panels) {
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": "Result views" });
  const bodies = [];
  panels.forEach(([name, body, onShow], i) => {
    const tab = h("button", { type: "button", role: "tab", id: `tab-${name}`, "aria-controls": `panel-${name}`, "aria-selected": i === 0 ? "true" : "false", tabindex: i === 0 ? "0" : "-1" }, name[0].toUpperCase() + name.slice(1));
    const panel = h("div", { role: "tabpanel", id: `panel-${name}`, "aria-labelledby": tab.id, hidden: i !== 0 }, body);
    tab.addEventListener("click", () => select(i));
    tab.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        const next = (i + (e.key === "ArrowRight" ? 1 : panels.length - 1)) % panels.length;
        select(next);
        list.children[next].focus();
      }
    });
    list.append(tab);
    bodies.push([tab, panel, onShow]);
  });
  function select(i) {
    bodies.forEach(([tab, panel], j) => {
      tab.setAttribute("aria-selected", String(i === j));
      tab.tabIndex = i === j ? 0 : -1;
      panel.hidden = i !== j;
    });
    if (bodies[i][2]) bodies[i][2]();
  }
  return h("section", { class: "card" }, list, bodies.map(([, panel]) => panel));
}

export async function render(main, { params }) {
  const [id] = params;
  add(main, loading("Loading the sweep…"));
  let run;
  try {
    run = await api(`/api/v1/sweeps/${encodeURIComponent(id)}`);
  } catch (error) {
    clear(main);
    if (error.status === 404 && error.details.status) {
      add(main, pageHead("Sweep not finished"), h("div", { class: "alert info" }, error.message, " ", h("a", { href: `#/jobs/${id}` }, "Follow the job")));
      return;
    }
    throw error;
  }
  const [{ rows, total }, cat, datasets] = await Promise.all([allRows(run.sweep_run_id), loadCatalog(), loadDatasets()]);
  clear(main);
  const spec = run.spec || {};
  const settings = spec.settings || {};
  const best = rows.find((r) => r.rank === 1) || null;
  const data = datasets.find((d) => d.ticker === run.ticker);
  const costs = settings.fees || settings.slippage ? `${fractionPct(settings.fees)} fees, ${fractionPct(settings.slippage)} slippage` : "no fees, no slippage";
  const csv = h("a", { class: "button secondary", href: `/api/v1/sweeps/${run.sweep_run_id}/results?format=csv`, download: `sweep-${run.sweep_run_id}.csv` }, "Download CSV");
  add(main, 
    pageHead(`${run.ticker} · ${run.strategy}`, `Sweep of ${int(run.evaluated)} combinations, ${dateTime(run.created_at)}`, csv, run.job_id ? h("a", { class: "button secondary", href: `#/jobs/${run.job_id}` }, "Job") : null),
    h("div", { class: "stats" },
      stat("Evaluated", int(run.evaluated)),
      stat("Valid / grid", `${int(run.valid_combinations)} / ${int(run.grid_combinations)}`),
      stat("Ranked", int(rows.filter((r) => isNum(r.rank)).length)),
      stat("Min trades", int(spec.min_trades)),
      stat("Costs", costs, "small-value", spec.preset ? `preset ${spec.preset}` : "engine defaults"),
      stat("Data", data ? `${date(data.start)} → ${date(data.end)}` : run.ticker, "small-value", data ? `${int(data.bars)} bars of ${run.ticker} today` : "")),
    h("div", { class: "grid two" }, winnerCard(run, best, cat), run.diagnostics ? diagnostics(run.diagnostics) : h("section", { class: "card" }, h("h2", {}, "Diagnostics"), h("p", { class: "muted" }, "Not computed for this run."))),
  );
  if (rows.length < total) add(main, h("div", { class: "alert warn" }, `Showing the first ${int(rows.length)} of ${int(total)} rows; the CSV has them all.`));

  const minTrades = spec.min_trades;
  const table = dataTable({
    columns: columnsFor(run, rows, cat),
    rows,
    pageSize: 50,
    name: "results",
    caption: `${int(rows.length)} combinations, ranked by score. Rows flagged "< ${minTrades} trades" are kept but not ranked. Click a row to backtest it.`,
    rowClass: (r) => (isNum(r.rank) ? "" : "unranked"),
    open: { label: () => "Backtest", onOpen: (r, button) => openBacktest(run, r.parameters, button) },
  });
  const heat = heatmapPanel(run, rows, cat);
  let drawn = false;
  add(main, tabs([
    ["table", table.el, null],
    ["heatmap", heat.el, () => {
      if (!drawn) {
        drawn = true;
        heat.draw().catch((error) => heat.el.prepend(errorBox(error)));
      }
    }],
  ]));
  return () => purge(heat.chart);
}
