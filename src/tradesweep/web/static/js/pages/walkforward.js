// A walk-forward analysis (the job's result): efficiency, in-sample vs out-of-sample per
// window, the windows table and the stitched out-of-sample metrics. While the job runs, its
// progress is followed here.

import { h, add, clear, fill, field, stat } from "../dom.js";
import { barTime, int, isNum, metric, num, params as paramText } from "../format.js";
import { followJob } from "../live.js";
import { catalog as loadCatalog, label } from "../state.js";
import { isVsOos, purge } from "../charts.js";
import { dataTable } from "../table.js";
import { badge, errorBox, loading, pageHead, progressBar } from "../ui.js";

const CHART_METRICS = ["annualized_return_pct", "total_return_pct", "sharpe_ratio", "max_drawdown_pct"];

function report(main, job, cat) {
  const r = job.result;
  const e = r.efficiency || {};
  const spec = (r.spec || {}).sweep || r.spec || {};
  const windows = r.windows || [];
  const chart = h("div", { class: "chart", id: "wf-chart", role: "img", "aria-label": "In-sample and out-of-sample result of each window" });
  const which = h("select", { name: "wf_metric" }, CHART_METRICS.map((k) => h("option", { value: k }, label(cat, k))));
  const draw = () => isVsOos(chart, {
    windows: windows.map((w) => String(w.window)),
    inSample: windows.map((w) => (isNum((w.in_sample || {})[which.value]) ? w.in_sample[which.value] : null)),
    outOfSample: windows.map((w) => (isNum((w.out_of_sample || {})[which.value]) ? w.out_of_sample[which.value] : null)),
    yTitle: label(cat, which.value),
  });
  which.addEventListener("change", draw);
  const oos = r.out_of_sample || {};
  const effTone = !isNum(e.value) ? "" : e.value >= 0.5 ? "gain" : e.value < 0 ? "loss" : "";
  const rows = windows.map((w) => ({ ...w, is: w.in_sample || {}, oos: w.out_of_sample || {} }));
  const cols = [
    { key: "window", label: "Window", num: true },
    { key: "train", label: "Training bars", value: (w) => w.train.start, render: (w) => `${barTime(w.train.start)} → ${barTime(w.train.end)} (${int(w.train.bars)})` },
    { key: "test", label: "Test bars", value: (w) => w.test.start, render: (w) => `${barTime(w.test.start)} → ${barTime(w.test.end)} (${int(w.test.bars)})` },
    { key: "params", label: "Chosen parameters", sortable: false, render: (w) => (w.params ? paramText(w.params) : h("span", { class: "muted", title: w.note || "" }, "none: stayed in cash")) },
    { key: "is_ret", label: "In-sample CAGR", num: true, value: (w) => w.is.annualized_return_pct, render: (w) => metric(cat, "annualized_return_pct", w.is.annualized_return_pct) },
    { key: "oos_ret", label: "Out-of-sample CAGR", num: true, value: (w) => w.oos.annualized_return_pct, render: (w) => metric(cat, "annualized_return_pct", w.oos.annualized_return_pct) },
    { key: "is_sharpe", label: "In-sample Sharpe", num: true, value: (w) => w.is.sharpe_ratio, render: (w) => metric(cat, "sharpe_ratio", w.is.sharpe_ratio) },
    { key: "oos_sharpe", label: "Out-of-sample Sharpe", num: true, value: (w) => w.oos.sharpe_ratio, render: (w) => metric(cat, "sharpe_ratio", w.oos.sharpe_ratio) },
    { key: "oos_trades", label: "Test trades", num: true, value: (w) => w.oos.total_trades, render: (w) => metric(cat, "total_trades", w.oos.total_trades) },
  ];
  const tile = (title, key, value) => {
    const f = metric(cat, key, value);
    return stat(title, f.text, f.cls);
  };
  const oosRows = cat.metrics.filter((m) => m.key in oos).map((m) => {
    const f = metric(cat, m.key, oos[m.key]);
    return h("tr", {}, h("th", { scope: "row" }, m.label), h("td", { class: `num ${f.cls}` }, f.text));
  });
  add(main, 
    pageHead(`${job.ticker} · walk-forward`, `${spec.strategy || ""} · ${windows.length} windows of ${int((job.parameters || {}).train_bars)} training and ${int((job.parameters || {}).test_bars)} test bars`, h("a", { class: "button secondary", href: `#/jobs/${job.job_id}` }, "Job")),
    h("div", { class: "stats" },
      stat("Walk-forward efficiency", isNum(e.value) ? num(e.value, 2) : "—", effTone, e.reason || "out-of-sample CAGR / in-sample CAGR"),
      tile("Out-of-sample CAGR", "annualized_return_pct", e.oos_annualized_return_pct),
      tile("In-sample CAGR", "annualized_return_pct", e.is_annualized_return_pct),
      tile("Out-of-sample Sharpe", "sharpe_ratio", oos.sharpe_ratio),
      tile("Out-of-sample max drawdown", "max_drawdown_pct", oos.max_drawdown_pct),
      stat("Unused bars", int(r.unused_bars))),
    h("p", { class: "muted small" }, "Efficiency near 1: the out-of-sample result keeps what the training windows promised; near 0 or below: the fitted edge does not survive unseen data.", e.reason ? ` Here: ${e.reason}.` : ""),
    h("section", { class: "card" }, h("h2", {}, "In-sample vs out-of-sample"), h("div", { class: "chart-controls" }, field({ label: "Metric", control: which, name: "wf_metric" })), chart),
    h("section", { class: "card" }, h("h2", {}, "Windows"), dataTable({ columns: cols, rows, pageSize: 50, name: "windows", sort: { key: "window", dir: "asc" } }).el),
    h("section", { class: "card" }, h("h2", {}, "Stitched out-of-sample metrics"), h("div", { class: "table-wrap" }, h("table", { "aria-label": "Out-of-sample metrics" }, h("tbody", {}, oosRows)))),
  );
  return draw().then(() => () => purge(chart));
}

export async function render(main, { params }) {
  const [id] = params;
  const cat = await loadCatalog();
  let cleanup = () => {};
  let done = false;
  add(main, loading("Loading the walk-forward analysis…"));
  const stop = followJob(
    id,
    async (job) => {
      if (done) return;
      if (job.status === "completed" && job.result) {
        done = true;
        stop();
        clear(main);
        cleanup = await report(main, job, cat);
        return;
      }
      fill(main, 
        pageHead("Walk-forward analysis", `${job.ticker || ""} · ${job.status}`, h("a", { class: "button secondary", href: `#/jobs/${job.job_id}` }, "Job")),
        h("section", { class: "card" }, h("h2", {}, "Progress ", badge(job.status)), progressBar(job.progress.percent, job.status, { label: "Walk-forward progress", big: true }), h("p", { class: "muted" }, job.progress.message || ""), job.error ? h("div", { class: "alert" }, job.error) : null),
      );
    },
    (error) => {
      if (error.status !== 401) fill(main, pageHead("Walk-forward analysis"), errorBox(error));
    },
  );
  return () => {
    done = true;
    stop();
    cleanup();
  };
}
