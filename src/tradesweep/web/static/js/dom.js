// Tiny DOM helpers. Text always goes in through textContent: nothing from the API is parsed as HTML.

/**
 * h("button", {class: "x", onclick: fn, "aria-label": "..."}, "text", child, [more])
 * Attributes: `class`, `text`, `dataset` (object), `on<event>` (function), boolean values
 * set or drop the attribute, everything else is setAttribute. Children: strings, numbers,
 * nodes, arrays; null/undefined/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let uid = 0;
/** A fresh id for label/for and aria-describedby pairs. */
export function newId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: label, control, hint and an error slot wired with aria. */
export function field({ label, control, hint, name, wide = false }) {
  const id = control.id || newId(name || "f");
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true, "data-error-for": name || id });
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintEl ? hintEl.id : null, error.id].filter(Boolean).join(" "));
  const wrap = h("div", { class: "field", "data-field": name || "" }, h("label", { for: id }, label), control, hintEl, error);
  if (wide) wrap.style.gridColumn = "1 / -1";
  return wrap;
}

/** The stat tile of a headline number. */
export function stat(label, text, cls = "", title = "") {
  return h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: `value ${cls}`, title: title || null }, text));
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** Replace the children of `el` (null/undefined/false children are skipped, unlike el.append). */
export function fill(el, ...children) {
  return append(clear(el), children);
}

/** Append children to `el`, skipping null/undefined/false (unlike el.append). */
export function add(el, ...children) {
  return append(el, children);
}
