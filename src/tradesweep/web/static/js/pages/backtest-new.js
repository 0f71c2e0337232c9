// New backtest: one strategy with fixed parameters (defaults and bounds from its schema) and
// the engine settings; queued as a job, opened when it completes.

import { api } from "../api.js";
import { h, add, fill, field } from "../dom.js";
import { go } from "../app.js";
import { date, int } from "../format.js";
import { catalog as loadCatalog, datasets as loadDatasets, strategies as loadStrategies } from "../state.js";
import { engineSettings } from "../engine-settings.js";
import { clearErrors, flash, pageHead, showErrors } from "../ui.js";

export async function render(main, { query }) {
  const [strategies, datasets, catalog] = await Promise.all([loadStrategies(), loadDatasets(), loadCatalog()]);
  const ticker = h("select", { name: "ticker" }, datasets.map((d) => h("option", { value: d.ticker, selected: d.ticker === (query.ticker || "GOOGL") }, d.ticker)));
  const tickerField = field({ label: "Ticker", control: ticker, name: "ticker", hint: " " });
  const wanted = query.strategy || "SMA";
  const strategy = h("select", { name: "strategy_type" }, strategies.map((s) => h("option", { value: s.strategy_type, selected: s.strategy_type === wanted || s.name === wanted }, s.strategy_type === s.name ? s.name : `${s.strategy_type} (${s.name})`)));
  const strategyField = field({ label: "Strategy", control: strategy, name: "strategy_type", hint: " " });
  const paramsRow = h("div", { class: "row" });
  const paramsSet = h("fieldset", { "data-field": "parameters" }, h("legend", {}, "Parameters"), h("p", { class: "field-error", hidden: true }), paramsRow);
  const preset = h("select", { name: "config_path" }, h("option", { value: "" }, "none: use the settings below"), catalog.presets.map((p) => h("option", { value: p.name }, `${p.name}: ${p.description}`)));
  const presetField = field({ label: "Costs preset", control: preset, name: "config_path", hint: "A preset's settings apply first; any setting you change below wins." });
  const settings = engineSettings(catalog);
  const general = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit" }, "Run backtest");
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": "New backtest" },
    h("fieldset", {}, h("legend", {}, "Data and strategy"), h("div", { class: "row" }, tickerField, strategyField, presetField)),
    paramsSet,
    settings.el,
    h("div", { class: "form-actions" }, submit),
    general,
  );
  const slots = { ticker: tickerField, strategy_type: strategyField, config_path: presetField, parameters: paramsSet, ...settings.slots };
  let inputs = [];

  function describeTicker() {
    const d = datasets.find((x) => x.ticker === ticker.value);
    tickerField.querySelector(".hint").textContent = d ? `${date(d.start)} to ${date(d.end)} · ${int(d.bars)} bars` : "";
  }

  function buildParams() {
    const s = strategies.find((x) => x.strategy_type === strategy.value);
    strategyField.querySelector(".hint").textContent = s ? `${s.description.split(". ")[0]}.` : "";
    for (const key of Object.keys(slots)) if (key.startsWith("param:")) delete slots[key];
    inputs = (s ? s.parameters : []).map((p) => {
      const given = query[p.name];
      const control = h("input", { type: "number", name: p.name, step: p.type === "int" ? "1" : "any", min: String(p.min), max: String(p.max), value: given ?? String(p.default), inputmode: p.type === "int" ? "numeric" : "decimal" });
      const f = field({ label: p.name, control, name: `param:${p.name}`, hint: `${p.description} (${p.type}, ${p.min} to ${p.max}, default ${p.default})` });
      slots[`param:${p.name}`] = f;
      return { p, control, f };
    });
    fill(paramsRow, ...inputs.map((i) => i.f));
  }

  function body() {
    const parameters = {};
    for (const { p, control } of inputs) {
      const text = control.value.trim();
      if (text === "") continue;
      const n = Number(text);
      parameters[p.name] = Number.isFinite(n) ? n : text;
    }
    const out = { ticker: ticker.value, strategy_type: strategy.value, parameters };
    const chosen = settings.value();
    if (Object.keys(chosen).length) out.settings = chosen;
    if (preset.value) out.config_path = preset.value;
    return out;
  }

  ticker.addEventListener("change", describeTicker);
  strategy.addEventListener("change", buildParams);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const job = await api("/api/v1/backtests", { method: "POST", json: body() });
      flash(job.message);
      go(`/jobs/${job.job_id}?open=1`);
    } catch (error) {
      if (error.status === 401) return;
      const first = showErrors(form, error, slots, general);
      if (first) first.focus();
    } finally {
      submit.disabled = false;
    }
  });

  describeTicker();
  buildParams();
  add(main, pageHead("New backtest", "One strategy, fixed parameters: candles with every trade, equity, drawdown and monthly returns."), form);
}
