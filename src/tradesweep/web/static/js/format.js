// Numbers for people: units and signs on every number, colour for gains and losses, a dash
// (with the reason as a tooltip) for a null.

const nf = new Map();
function fmt(digits) {
  if (!nf.has(digits)) {
    nf.set(digits, new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  }
  return nf.get(digits);
}

export const DASH = "—";
const MINUS = "−";

export function isNum(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/** 12,345.68 (or −12,345.68). */
export function num(v, digits = 2) {
  if (!isNum(v)) return DASH;
  return fmt(digits).format(Math.abs(v) < 0.5 * 10 ** -digits ? 0 : v).replace("-", MINUS);
}

/** +12.34 % / −5.00 % (signed) or 12.34 %. */
export function pct(v, { digits = 2, signed = true } = {}) {
  if (!isNum(v)) return DASH;
  const text = num(v, digits);
  const plus = signed && v > 0 && text !== num(0, digits) ? "+" : "";
  return `${plus}${text} %`;
}

export function int(v) {
  return isNum(v) ? fmt(0).format(Math.round(v)) : DASH;
}

/** "gain" / "loss" / "" for a value compared with `zero`. */
export function tone(v, zero = 0) {
  if (!isNum(v) || v === zero) return "";
  return v > zero ? "gain" : "loss";
}

export function date(iso) {
  if (!iso) return DASH;
  return String(iso).slice(0, 10);
}

export function dateTime(iso) {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString("en-GB", { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

/** A bar timestamp: the date, plus the UTC time when it is not midnight. */
export function barTime(iso) {
  if (!iso) return DASH;
  const text = String(iso);
  const time = text.slice(11, 16);
  return time && time !== "00:00" ? `${text.slice(0, 10)} ${time} UTC` : text.slice(0, 10);
}

/** 0.4 s, 12 s, 3 min 05 s, 1 h 02 min. */
export function duration(seconds) {
  if (!isNum(seconds)) return DASH;
  if (seconds < 10) return `${num(seconds, 1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

export function ago(iso) {
  if (!iso) return DASH;
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return DASH;
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** 252 / 8,760 / 252.25: up to six significant digits. */
function significant(v) {
  return new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 }).format(v).replace("-", MINUS);
}

/** "gain" / "loss" / "" as the catalog row's tone rule reads the value. */
function toneOf(row, v, cash) {
  if (row.tone === "sign") return tone(v);
  if (row.tone === "above_one") return tone(v, 1);
  if (row.tone === "above_cash" && isNum(cash)) return tone(v, cash);
  return "";
}

/**
 * A metric value formatted as its row of the catalog's metric table says (unit, decimals,
 * sign, tone rule), so the dashboard writes what the reports write: {text, cls}. `cls`
 * colours gains and losses. `cat` is the loaded catalog (state.js); `cash` the initial cash,
 * for final equity.
 */
export function metric(cat, key, value, { cash } = {}) {
  if (value === null || value === undefined) return { text: DASH, cls: "" };
  const row = cat.metricRows[key];
  if (row && row.unit === "date") return { text: barTime(value), cls: "" };
  if (typeof value === "string") return { text: value, cls: "" };
  if (typeof value === "boolean") return { text: value ? "yes" : "no", cls: "" };
  if (!row) return { text: num(value, 2), cls: "" };
  const digits = row.decimals;
  let text;
  if (row.unit === "count") text = int(value);
  else if (row.unit === "pct") text = pct(value, { digits: digits ?? 2, signed: row.signed });
  else {
    text = digits === null ? significant(value) : num(value, digits);
    if (row.signed && value > 0 && text !== num(0, digits ?? 0)) text = `+${text}`;
    if (row.unit === "days") text = `${text} d`;
  }
  return { text, cls: toneOf(row, value, cash) };
}

/** A setting fraction as a percent: 0.001 -> "0.1 %". */
export function fractionPct(v) {
  if (!isNum(v)) return "off";
  return `${Number((v * 100).toPrecision(10))} %`;
}

/** "fast=10, slow=30" */
export function params(obj) {
  return Object.entries(obj || {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}
