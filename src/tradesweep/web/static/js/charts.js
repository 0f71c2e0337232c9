// Charts with plotly.js, loaded on first use from the plotly Python package's own copy
// (served at /assets/vendor/plotly.min.js): no CDN, works offline.

const GAIN = "#117a3a";
const LOSS = "#c22a2a";
const ACCENT = "#0b5cad";
const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1b2330" };

let loading = null;
export function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/assets/vendor/plotly.min.js";
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        loading = null;
        reject(new Error("could not load plotly.js from /assets/vendor/plotly.min.js"));
      };
      document.head.append(script);
    });
  }
  return loading;
}

function layout(extra) {
  return {
    font: FONT,
    margin: { l: 64, r: 24, t: 16, b: 48 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    hoverlabel: { font: { family: FONT.family } },
    ...extra,
  };
}

/** Heatmap of `z[y][x]` (null: no value) with labelled axes; `onClick({x, y})` on a cell. */
export async function heatmap(el, { x, y, z, xTitle, yTitle, zTitle, diverging, onClick }) {
  const Plotly = await plotly();
  const trace = {
    type: "heatmap",
    x: x.map(String),
    y: y.map(String),
    z,
    hoverongaps: false,
    colorbar: { title: { text: zTitle, side: "right" } },
    hovertemplate: `${xTitle} %{x}<br>${yTitle} %{y}<br>${zTitle} %{z:.3f}<extra></extra>`,
  };
  if (diverging) {
    Object.assign(trace, { colorscale: [[0, LOSS], [0.5, "#f7f7f7"], [1, GAIN]], zmid: 0 });
  } else {
    trace.colorscale = "Viridis";
  }
  await Plotly.react(
    el,
    [trace],
    layout({
      xaxis: { title: { text: xTitle }, type: "category" },
      yaxis: { title: { text: yTitle }, type: "category" },
    }),
    CONFIG,
  );
  if (onClick) {
    el.removeAllListeners?.("plotly_click");
    el.on("plotly_click", (event) => {
      const point = event.points && event.points[0];
      if (point) onClick({ x: point.x, y: point.y });
    });
  }
}

/** The objective along one swept parameter (a sweep over a single parameter). */
export async function line(el, { x, y, xTitle, yTitle }) {
  const Plotly = await plotly();
  await Plotly.react(
    el,
    [{ type: "scatter", mode: "lines+markers", x, y, line: { color: ACCENT }, hovertemplate: `${xTitle} %{x}<br>${yTitle} %{y:.3f}<extra></extra>` }],
    layout({ xaxis: { title: { text: xTitle } }, yaxis: { title: { text: yTitle }, zeroline: true } }),
    CONFIG,
  );
}

/** Candlesticks with entry and exit markers from the trades. */
export async function candles(el, series, trades) {
  const Plotly = await plotly();
  const price = {
    type: "candlestick",
    name: series.ticker,
    x: series.timestamps,
    open: series.open,
    high: series.high,
    low: series.low,
    close: series.close,
    increasing: { line: { color: GAIN } },
    decreasing: { line: { color: LOSS } },
    showlegend: false,
  };
  const entries = { long: [], short: [] };
  for (const t of trades) entries[t.side === "short" ? "short" : "long"].push(t);
  const entryTrace = (list, side) => ({
    type: "scatter",
    mode: "markers",
    name: `${side} entry`,
    x: list.map((t) => t.entry_time),
    y: list.map((t) => t.entry_price),
    marker: { symbol: side === "long" ? "triangle-up" : "triangle-down", size: 11, color: ACCENT, line: { color: "#fff", width: 1 } },
    hovertemplate: `${side} entry %{x}<br>at %{y:.4f}<extra></extra>`,
  });
  const exits = {
    type: "scatter",
    mode: "markers",
    name: "exit",
    x: trades.map((t) => t.exit_time),
    y: trades.map((t) => t.exit_price),
    text: trades.map((t) => `${t.exit_reason || "exit"}: ${t.pnl_pct >= 0 ? "+" : ""}${Number(t.pnl_pct).toFixed(2)} %`),
    marker: { symbol: "x", size: 10, color: trades.map((t) => (t.pnl >= 0 ? GAIN : LOSS)), line: { width: 2 } },
    hovertemplate: "exit %{x}<br>at %{y:.4f}<br>%{text}<extra></extra>",
  };
  await Plotly.react(
    el,
    [price, entryTrace(entries.long, "long"), entryTrace(entries.short, "short"), exits],
    layout({
      xaxis: { rangeslider: { visible: false }, type: "date" },
      yaxis: { title: { text: "price" }, fixedrange: false },
      legend: { orientation: "h", y: 1.08 },
    }),
    CONFIG,
  );
}

/** Equity on top, drawdown (%) below, sharing the time axis. */
export async function equityDrawdown(el, series) {
  const Plotly = await plotly();
  await Plotly.react(
    el,
    [
      { type: "scatter", mode: "lines", name: "equity", x: series.timestamps, y: series.equity, line: { color: ACCENT, width: 1.6 }, yaxis: "y", hovertemplate: "%{x}<br>equity %{y:,.2f}<extra></extra>" },
      { type: "scatter", mode: "lines", name: "initial cash", x: [series.timestamps[0], series.timestamps[series.timestamps.length - 1]], y: [series.initial_cash, series.initial_cash], line: { color: "#9aa4b2", dash: "dot", width: 1 }, yaxis: "y", hoverinfo: "skip" },
      { type: "scatter", mode: "lines", name: "drawdown", x: series.timestamps, y: series.drawdown_pct, fill: "tozeroy", line: { color: LOSS, width: 1 }, fillcolor: "rgba(194,42,42,0.18)", yaxis: "y2", hovertemplate: "%{x}<br>drawdown %{y:.2f} %<extra></extra>" },
    ],
    layout({
      grid: { rows: 2, columns: 1, roworder: "top to bottom" },
      xaxis: { type: "date", anchor: "y2" },
      yaxis: { title: { text: "equity" }, domain: [0.36, 1] },
      yaxis2: { title: { text: "drawdown [%]" }, domain: [0, 0.28], ticksuffix: " %" },
      legend: { orientation: "h", y: 1.1 },
      showlegend: true,
    }),
    CONFIG,
  );
}

/** Grouped bars: in-sample vs out-of-sample per walk-forward window. */
export async function isVsOos(el, { windows, inSample, outOfSample, yTitle }) {
  const Plotly = await plotly();
  await Plotly.react(
    el,
    [
      { type: "bar", name: "in-sample (train)", x: windows, y: inSample, marker: { color: "#9db8d9" }, hovertemplate: `window %{x}<br>in-sample ${yTitle} %{y:.2f}<extra></extra>` },
      { type: "bar", name: "out-of-sample (test)", x: windows, y: outOfSample, marker: { color: outOfSample.map((v) => (v >= 0 ? GAIN : LOSS)) }, hovertemplate: `window %{x}<br>out-of-sample ${yTitle} %{y:.2f}<extra></extra>` },
    ],
    layout({
      barmode: "group",
      xaxis: { title: { text: "window" }, type: "category" },
      yaxis: { title: { text: yTitle }, zeroline: true },
      legend: { orientation: "h", y: 1.1 },
    }),
    CONFIG,
  );
}

export function purge(el) {
  if (window.Plotly && el) window.Plotly.purge(el);
}
