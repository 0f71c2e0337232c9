// The sweep form (also the walk-forward form): ticker, strategy, one row per parameter of the
// strategy's schema (defaults and bounds shown), the engine settings that can be swept next to
// them (stop-loss, take-profit, size, ...; sent in `ranges` like a parameter), step, min
// trades, preset. The number of valid
// combinations and the estimated duration come from POST .../estimate as the user types; the
// API's validation messages appear next to the field they name.

import { api, requestProperties } from "./api.js";
import { h, add, fill, field, debounce } from "./dom.js";
import { go } from "./app.js";
import { date, duration, int } from "./format.js";
import { catalog as loadCatalog, datasets as loadDatasets, strategies as loadStrategies } from "./state.js";
import { engineSettings, toFraction } from "./engine-settings.js";
import { clearErrors, flash, pageHead, showErrors } from "./ui.js";

/** Parameters sent as `<name>_range: [min, max]` with the shared `step` (issue 5's fields). */
const PERIODS = ["fast", "slow"];
const PERIOD_MIN = 1;
const PERIOD_MAX = 500;

const MODES = {
  sweep: {
    title: "New sweep",
    intro: "Backtest every combination of the parameter ranges below and rank them.",
    estimate: "/api/v1/sweeps/estimate",
    submit: "/api/v1/strategy/sweep",
    button: "Start sweep",
  },
  walkforward: {
    title: "New walk-forward analysis",
    intro: "Sweep on each training window, trade the winner on the next test window, and see how much of the in-sample performance survives out of sample.",
    estimate: "/api/v1/walkforward/estimate",
    submit: "/api/v1/walkforward",
    button: "Start walk-forward",
  },
};

/** The engine settings a sweep may vary per combination (the API's setting axes, in its order),
 * how the form takes them (percent: typed in %, sent as a fraction) and a hint. */
const SETTING_AXES = [
  ["stop_loss", "percent", "Stop-loss below the entry price, in %."],
  ["stop_loss_atr", "number", "Stop-loss in multiples of the ATR (instead of stop_loss)."],
  ["take_profit", "percent", "Take-profit above the entry price, in %."],
  ["take_profit_atr", "number", "Take-profit in multiples of the ATR (instead of take_profit)."],
  ["trailing_stop", "percent", "Trailing stop from the best price since entry, in %."],
  ["trailing_stop_atr", "number", "Trailing stop in multiples of the ATR (instead of trailing_stop)."],
  ["size", "number", "Position size: a fraction of equity (1 = all-in) with percent sizing."],
  ["max_drawdown", "percent", "Stop trading after this loss from the peak, in %."],
];

function number(input) {
  const text = input.value.trim();
  if (text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

function periodDefaults(param) {
  const d = Number(param.default);
  const lo = Math.max(PERIOD_MIN, Number(param.min));
  if (param.name === "fast") return [clamp(Math.round(d / 2), lo, PERIOD_MAX - 1), clamp(d * 2, lo, PERIOD_MAX - 1)];
  return [clamp(d, lo, PERIOD_MAX), clamp(d * 2, lo, PERIOD_MAX)];
}

/** One parameter row: fast/slow are always swept (min, max); others keep their default, take
 * a fixed value, or sweep a range (min, max, step). */
function paramRow(param) {
  const isPeriod = PERIODS.includes(param.name);
  const bounds = `${param.type}, ${param.min} to ${param.max}, default ${param.default}`;
  const step = param.type === "int" ? "1" : "any";
  const input = (name, value, label) => h("input", { type: "number", step, inputmode: param.type === "int" ? "numeric" : "decimal", name, value: String(value), "aria-label": `${param.name} ${label}` });
  const cell = (label, control) => h("div", { class: "field" }, h("span", { class: "label small muted", "aria-hidden": "true" }, label), control);
  const error = h("p", { class: "field-error", hidden: true });
  const title = h("div", { class: "name" }, param.name, h("span", { class: "hint" }, param.description), h("span", { class: "hint" }, bounds));
  const row = h("div", { class: "param", "data-param": param.name });

  if (isPeriod) {
    const [lo, hi] = periodDefaults(param);
    const min = input(`${param.name}_min`, lo, "from");
    const max = input(`${param.name}_max`, hi, "to");
    row.append(title, h("div", { class: "field" }, h("span", { class: "label small muted" }, "swept"), h("span", { class: "small" }, "always (uses the step below)")), cell("from", min), cell("to", max), h("div"), error);
    return { row, param, value: () => ({ kind: "period", range: [number(min), number(max)] }) };
  }

  const mode = h("select", { name: `${param.name}_mode`, "aria-label": `${param.name}: keep the default, fix a value or sweep a range` },
    h("option", { value: "default" }, `default (${param.default})`),
    h("option", { value: "fixed" }, "fixed value"),
    h("option", { value: "range" }, "sweep a range"));
  const value = input(`${param.name}_value`, param.default, "value");
  const min = input(`${param.name}_min`, param.default, "from");
  const max = input(`${param.name}_max`, param.default, "to");
  const stepIn = input(`${param.name}_step`, param.type === "int" ? 1 : 0.5, "step");
  stepIn.min = "0";
  const cells = { value: cell("value", value), min: cell("from", min), max: cell("to", max), step: cell("step", stepIn) };
  const sync = () => {
    cells.value.hidden = mode.value !== "fixed";
    for (const k of ["min", "max", "step"]) cells[k].hidden = mode.value !== "range";
  };
  mode.addEventListener("change", sync);
  row.append(title, cell("use", mode), cells.value, cells.min, cells.max, cells.step, error);
  sync();
  return {
    row,
    param,
    value: () => {
      if (mode.value === "fixed") return { kind: "fixed", value: number(value) };
      if (mode.value === "range") return { kind: "range", range: { min: number(min), max: number(max), step: number(stepIn) } };
      return { kind: "default" };
    },
  };
}

/** One setting-axis row: not swept (the engine settings below apply), or a range (from, to,
 * step), sent in `ranges` like a strategy parameter. */
function axisRow([name, kind, hint]) {
  const unit = kind === "percent" ? " [%]" : "";
  const input = (suffix, label) => h("input", { type: "number", step: "any", min: "0", inputmode: "decimal", name: `${name}_${suffix}`, "aria-label": `${name} ${label}` });
  const cell = (label, control) => h("div", { class: "field" }, h("span", { class: "label small muted", "aria-hidden": "true" }, label), control);
  const use = h("select", { name: `${name}_mode`, "aria-label": `${name}: sweep it or not` },
    h("option", { value: "off" }, "not swept"),
    h("option", { value: "range" }, "sweep a range"));
  const min = input("min", "from");
  const max = input("max", "to");
  const step = input("step", "step");
  const cells = [cell(`from${unit}`, min), cell(`to${unit}`, max), cell(`step${unit}`, step)];
  const sync = () => {
    for (const c of cells) c.hidden = use.value !== "range";
  };
  use.addEventListener("change", sync);
  const row = h("div", { class: "param", "data-param": name, "data-axis": name },
    h("div", { class: "name" }, `${name}${unit}`, h("span", { class: "hint" }, hint)),
    cell("use", use), ...cells, h("p", { class: "field-error", hidden: true }));
  sync();
  const sent = (control) => {
    const text = control.value.trim();
    if (text === "") return null;
    return kind === "percent" ? toFraction(text) : number(control);
  };
  return { name, row, value: () => (use.value === "range" ? { min: sent(min), max: sent(max), step: sent(step) } : null) };
}

export async function sweepForm(main, { mode = "sweep", query = {} } = {}) {
  const M = MODES[mode];
  const [strategies, datasets, catalog, props] = await Promise.all([loadStrategies(), loadDatasets(), loadCatalog(), requestProperties(M.submit)]);

  const ticker = h("select", { name: "ticker", required: true }, datasets.map((d) => h("option", { value: d.ticker, selected: d.ticker === (query.ticker || "GOOGL") }, `${d.ticker}${d.synthetic ? " (synthetic)" : ""}`)));
  const tickerField = field({ label: "Ticker", control: ticker, name: "ticker", hint: " " });
  const strategy = h("select", { name: "strategy_type" }, strategies.map((s) => h("option", { value: s.strategy_type, selected: s.strategy_type === (query.strategy || "SMA") }, s.strategy_type === s.name ? s.name : `${s.strategy_type} (${s.name})`)));
  const strategyField = field({ label: "Strategy", control: strategy, name: "strategy_type", hint: " " });

  const paramsError = h("p", { class: "field-error", hidden: true });
  const paramsBox = h("div");
  const paramsSet = h("fieldset", { "data-field": "ranges" }, h("legend", {}, "Parameters"), paramsError, paramsBox);
  let rows = [];

  const known = new Set(catalog.engine_settings.map((s) => s.name));
  const axes = SETTING_AXES.filter(([name]) => known.has(name)).map(axisRow);
  const axesSet = h("fieldset", { "data-field": "setting-axes" },
    h("legend", {}, "Engine settings to sweep"),
    h("p", { class: "hint small muted" }, "Each value is tried with every parameter combination; the results name it next to the parameters."),
    axes.map((a) => a.row));

  const step = h("input", { type: "number", name: "step", min: "1", max: "50", step: "1", value: "5", inputmode: "numeric" });
  const stepField = field({ label: "Step of fast and slow", control: step, name: "step", hint: "1 to 50" });
  const minTrades = h("input", { type: "number", name: "min_trades", min: "0", max: "1000", step: "1", placeholder: "1", inputmode: "numeric" });
  const minTradesField = field({ label: "Minimum trades", control: minTrades, name: "min_trades", hint: "0 to 1000 (empty: 1, or the preset's): combinations with fewer trades are kept but not ranked." });
  const preset = h("select", { name: "config_path" }, h("option", { value: "" }, "none: engine defaults (no fees, no slippage)"), catalog.presets.map((p) => h("option", { value: p.name }, p.name)));
  const presetField = field({ label: "Costs preset", control: preset, name: "config_path", hint: " " });
  const showPreset = () => {
    const p = catalog.presets.find((x) => x.name === preset.value);
    presetField.querySelector(".hint").textContent = p ? p.description : "Fills at the next bar's open, all-in position, long only.";
  };
  preset.addEventListener("change", showPreset);
  showPreset();
  const rankFields = [stepField, minTradesField, presetField];
  const slots = { ticker: tickerField, strategy_type: strategyField, step: stepField, min_trades: minTradesField, config_path: presetField, ranges: paramsSet };

  // Fields the API may accept later (objective, engine settings) appear when its schema has them.
  let objective = null;
  if (props.objective) {
    objective = h("select", { name: "objective" }, catalog.objectives.map((o) => h("option", { value: o, selected: o === "score" }, catalog.labels[o] || o)));
    const f = field({ label: "Rank by", control: objective, name: "objective" });
    rankFields.push(f);
    slots.objective = f;
  }
  const settings = props.settings ? engineSettings(catalog) : null;
  if (settings) Object.assign(slots, settings.slots);

  const windowInputs = {};
  let windowsSet = null;
  if (mode === "walkforward") {
    const mk = (name, label, value, hint) => {
      const control = h("input", { type: "number", name, min: "1", step: "1", value, inputmode: "numeric" });
      windowInputs[name] = control;
      const f = field({ label, control, name, hint });
      slots[name] = f;
      return f;
    };
    const anchored = h("input", { type: "checkbox", name: "anchored" });
    windowInputs.anchored = anchored;
    windowsSet = h("fieldset", {}, h("legend", {}, "Windows (in bars)"), h("div", { class: "row" },
      mk("train_bars", "Training bars", "500", "Bars each sweep is fitted on."),
      mk("test_bars", "Test bars", "250", "Bars the winner then trades, unseen."),
      mk("step_bars", "Step bars", "", "Bars between windows; empty: the test length."),
      h("div", { class: "field", "data-field": "anchored" }, h("span", { class: "label" }, "Anchored"), h("label", { class: "check" }, anchored, "every training window starts at the first bar"), h("p", { class: "field-error", hidden: true }))));
    slots.anchored = windowsSet.querySelector('[data-field="anchored"]');
  }

  const webhook = h("input", { type: "url", name: "webhook_url", placeholder: "https://example.com/hooks/tradesweep", autocomplete: "off" });
  const webhookField = field({ label: "Webhook URL (optional)", control: webhook, name: "webhook_url", hint: "Called with a signed POST when the job finishes." });
  slots.webhook_url = webhookField;

  const summaryBox = h("div", { class: "summary", role: "status", "aria-live": "polite" }, "Counting combinations…");
  const general = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit" }, M.button);
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": M.title },
    h("fieldset", {}, h("legend", {}, "Data and strategy"), h("div", { class: "row" }, tickerField, strategyField)),
    paramsSet,
    axesSet,
    windowsSet,
    h("fieldset", {}, h("legend", {}, "Ranking and costs"), h("div", { class: "row" }, rankFields)),
    settings ? settings.el : null,
    h("div", { class: "row" }, webhookField),
    h("div", { class: "form-actions" }, submit, summaryBox),
    general,
  );

  function describeTicker() {
    const d = datasets.find((x) => x.ticker === ticker.value);
    tickerField.querySelector(".hint").textContent = d ? `${date(d.start)} to ${date(d.end)} · ${int(d.bars)} bars · ${d.interval || "irregular"}${d.synthetic ? " · synthetic data" : ""}` : "";
  }

  function buildParams() {
    const s = strategies.find((x) => x.strategy_type === strategy.value);
    strategyField.querySelector(".hint").textContent = s ? `${s.description.split(". ")[0]}.` : "";
    rows = s ? s.parameters.map(paramRow) : [];
    fill(paramsBox, ...rows.map((r) => r.row));
    for (const key of Object.keys(slots)) if (key.startsWith("param:") || key.endsWith("_range")) delete slots[key];
    for (const r of rows) {
      slots[`param:${r.param.name}`] = r.row;
      if (PERIODS.includes(r.param.name)) slots[`${r.param.name}_range`] = r.row;
    }
    stepField.hidden = !rows.some((r) => PERIODS.includes(r.param.name));
    const taken = new Set(rows.map((r) => r.param.name)); // a strategy parameter of the same name wins
    for (const a of axes) {
      a.row.hidden = taken.has(a.name);
      if (!a.row.hidden) slots[`param:${a.name}`] = a.row;
    }
  }

  function body() {
    const out = { ticker: ticker.value, strategy_type: strategy.value };
    const ranges = {};
    let periods = false;
    for (const r of rows) {
      const v = r.value();
      if (v.kind === "period") {
        out[`${r.param.name}_range`] = v.range;
        periods = true;
      } else if (v.kind === "fixed") ranges[r.param.name] = v.value;
      else if (v.kind === "range") ranges[r.param.name] = v.range;
    }
    for (const a of axes) {
      const range = a.row.hidden ? null : a.value();
      if (range) ranges[a.name] = range;
    }
    if (periods) out.step = number(step);
    if (Object.keys(ranges).length) out.ranges = ranges;
    out.min_trades = number(minTrades);
    if (preset.value) out.config_path = preset.value;
    if (objective) out.objective = objective.value;
    if (settings) {
      const chosen = settings.value();
      if (Object.keys(chosen).length) out.settings = chosen;
    }
    if (mode === "walkforward") {
      out.train_bars = number(windowInputs.train_bars);
      out.test_bars = number(windowInputs.test_bars);
      const stepBars = number(windowInputs.step_bars);
      if (stepBars !== null) out.step_bars = stepBars;
      out.anchored = windowInputs.anchored.checked;
    }
    const hook = webhook.value.trim();
    if (hook) out.webhook_url = hook;
    return out;
  }

  let inFlight = null;
  async function estimate() {
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const e = await api(M.estimate, { method: "POST", json: body(), signal: controller.signal });
      clearErrors(form);
      summaryBox.className = "summary";
      const perWindow = mode === "walkforward" ? " per training window" : "";
      fill(summaryBox, 
        h("strong", { "data-testid": "combinations" }, int(e.combinations)),
        ` valid combinations${perWindow} (of ${int(e.grid_combinations)} in the grid) × ${int(e.bars)} bars · about `,
        h("strong", {}, duration(e.estimated_duration_seconds)),
      );
    } catch (error) {
      if (error.name === "AbortError" || error.status === 401) return;
      summaryBox.className = "summary bad";
      summaryBox.textContent = "Fix the fields marked in red to see the number of combinations.";
      showErrors(form, error, slots, general);
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  }
  const later = debounce(estimate, 350);

  ticker.addEventListener("change", describeTicker);
  strategy.addEventListener("change", buildParams);
  form.addEventListener("input", later);
  form.addEventListener("change", later);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    later.cancel();
    if (inFlight) inFlight.abort();
    submit.disabled = true;
    try {
      const job = await api(M.submit, { method: "POST", json: body() });
      flash(job.message);
      go(`/jobs/${job.job_id}`);
    } catch (error) {
      if (error.status === 401) return;
      summaryBox.className = "summary bad";
      summaryBox.textContent = "Not started: fix the fields marked in red.";
      const first = showErrors(form, error, slots, general);
      (first || general).focus?.();
    } finally {
      submit.disabled = false;
    }
  });

  describeTicker();
  buildParams();
  add(main, 
    pageHead(M.title, M.intro, mode === "sweep" ? h("a", { class: "button secondary", href: "#/walkforward/new" }, "Walk-forward instead") : h("a", { class: "button secondary", href: "#/sweeps/new" }, "Plain sweep instead")),
    form,
  );
  estimate();
  return () => {
    later.cancel();
    if (inFlight) inFlight.abort();
  };
}
