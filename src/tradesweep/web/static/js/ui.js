// Shared pieces of the pages: flash messages, status badges, progress bars, error boxes,
// form error display.

import { h } from "./dom.js";
import { fieldErrors } from "./api.js";
import { num } from "./format.js";

let flashTimer = null;
export function flash(message, { error = false } = {}) {
  const el = document.getElementById("flash");
  el.textContent = message;
  el.className = error ? "flash error" : "flash";
  el.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    el.hidden = true;
  }, 6000);
}

export function badge(status) {
  return h("span", { class: `badge ${status}` }, status);
}

/** A progress bar with its percent; `label` names it for screen readers. */
export function progressBar(percent, status, { label = "Progress", big = false } = {}) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  const cls = ["progress", big ? "big" : "", status === "completed" ? "done" : "", status === "failed" || status === "cancelled" ? status : ""];
  const bar = h("span");
  bar.style.width = `${value}%`;
  return h(
    "div",
    { class: "progress-line" },
    h("div", {
      class: cls.filter(Boolean).join(" "),
      role: "progressbar",
      "aria-label": label,
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(Math.round(value)),
    }, bar),
    h("span", { class: "pct" }, `${num(value, value >= 100 || value === 0 ? 0 : 1)} %`),
  );
}

export function errorBox(error) {
  const fix = error.details && error.details.fix;
  return h("div", { class: "alert", role: "alert" }, h("strong", {}, `${error.status ? `${error.status} ` : ""}${error.code || "error"}: `), error.message, fix && !String(error.message).includes(fix) ? ` (${fix})` : "");
}

/** Clear the error slots and aria-invalid marks of a form. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * Show an API error next to the fields it names. `slots` maps an error key (a field name,
 * "param:NAME", "setting:NAME") to the element holding its error slot; what matches nothing
 * goes to the form's general slot. Returns the first invalid control, to focus.
 */
export function showErrors(form, error, slots, general) {
  clearErrors(form);
  let first = null;
  const leftovers = [];
  for (const [key, messages] of fieldErrors(error)) {
    const holder = slots[key] || slots[key.replace(/^param:/, "")];
    const slot = holder && holder.querySelector(".field-error");
    if (!slot) {
      leftovers.push(...messages);
      continue;
    }
    slot.textContent = messages.join(" ");
    slot.hidden = false;
    for (const control of holder.querySelectorAll("input, select")) control.setAttribute("aria-invalid", "true");
    first = first || holder.querySelector("input, select");
  }
  if (leftovers.length) {
    general.textContent = leftovers.join(" ");
    general.hidden = false;
  }
  return first;
}

export function pageHead(title, subtitle, ...actions) {
  return h(
    "div",
    { class: "page-head" },
    h("div", {}, h("h1", { tabindex: "-1" }, title), subtitle ? h("p", { class: "muted" }, subtitle) : null),
    actions.length ? h("div", { class: "actions" }, actions) : null,
  );
}

export function loading(text = "Loading…") {
  return h("p", { class: "muted loading" }, text);
}
