// The engine settings a user usually sets (costs, fills, direction, stops), generated from
// the catalog's defaults and choices. Fractions are entered as percents (0.1 means 0.1 %)
// and sent as fractions (0.001), as the API expects.

import { h, field } from "./dom.js";

const SHOWN = [
  ["cash", "Starting cash", "number", "Account currency."],
  ["fees", "Fees per fill [%]", "percent", "Of traded notional, on entry and exit: 0.1 means 0.1 %."],
  ["slippage", "Slippage per fill [%]", "percent", "Moves each fill against you: 0.05 means 0.05 %."],
  ["fill", "Fill at", "choice", "next_open: a signal on bar t fills at bar t+1's open."],
  ["direction", "Direction", "choice", "Which positions the strategy may take."],
  ["stop_loss", "Stop-loss [%]", "percent", "Below the entry price; empty: no stop."],
  ["take_profit", "Take-profit [%]", "percent", "Above the entry price; empty: none."],
  ["trailing_stop", "Trailing stop [%]", "percent", "From the best price since entry; empty: none."],
  ["max_drawdown", "Drawdown guard [%]", "percent", "Stop trading after this loss from the peak; empty: off."],
];

/** A percent typed by the user (0.1 means 0.1 %) as the fraction the API takes (0.001). */
export function toFraction(text) {
  const n = Number(text);
  return Number.isFinite(n) ? Number((n / 100).toPrecision(12)) : text;
}

/** {el, value() -> settings dict (only what differs from the defaults), slots} */
export function engineSettings(catalog, { legend = "Engine settings" } = {}) {
  const known = Object.fromEntries(catalog.engine_settings.map((s) => [s.name, s]));
  const controls = {};
  const slots = {};
  const fields = [];
  for (const [name, label, kind, hint] of SHOWN) {
    const spec = known[name];
    if (!spec) continue;
    let control;
    if (kind === "choice") {
      control = h("select", { name }, spec.choices.map((c) => h("option", { value: c, selected: c === spec.default }, c.replace("_", " "))));
    } else {
      const initial = spec.default === null ? "" : kind === "percent" ? String(Number((spec.default * 100).toPrecision(10))) : String(spec.default);
      control = h("input", { name, type: "number", step: "any", min: "0", inputmode: "decimal", value: initial, placeholder: spec.optional ? "off" : null });
    }
    controls[name] = { control, kind, spec };
    const wrap = field({ label, control, hint, name: `setting:${name}` });
    slots[`setting:${name}`] = wrap;
    fields.push(wrap);
  }
  const el = h("fieldset", {}, h("legend", {}, legend), h("div", { class: "row" }, fields));

  function value() {
    const out = {};
    for (const [name, { control, kind, spec }] of Object.entries(controls)) {
      const text = control.value.trim();
      if (kind === "choice") {
        if (text !== spec.default) out[name] = text;
        continue;
      }
      if (text === "") {
        if (!spec.optional) out[name] = null; // cleared: let the API say it is needed
        continue;
      }
      const v = kind === "percent" ? toFraction(text) : Number(text);
      if (v !== spec.default) out[name] = Number.isNaN(v) ? text : v;
    }
    return out;
  }

  function onChange(fn) {
    el.addEventListener("input", fn);
    el.addEventListener("change", fn);
  }

  return { el, value, slots, onChange };
}
