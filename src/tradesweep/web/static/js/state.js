// What the pages share: the signed-in tenant and reference data fetched once per page load
// (the catalog of metric labels and settings, the strategies, the datasets).

import { api } from "./api.js";

const TENANT_KEY = "tradesweep.tenant";
const cache = new Map();

export const session = {
  get tenant() {
    return window.localStorage.getItem(TENANT_KEY);
  },
  signIn(tenant) {
    window.localStorage.setItem(TENANT_KEY, tenant);
  },
  signOut() {
    window.localStorage.removeItem(TENANT_KEY);
    cache.clear();
  },
};

function once(key, load) {
  if (!cache.has(key)) {
    const promise = load().catch((error) => {
      cache.delete(key);
      throw error;
    });
    cache.set(key, promise);
  }
  return cache.get(key);
}

export function catalog() {
  return once("catalog", async () => {
    const body = await api("/api/v1/catalog");
    // each row of the metric table by its key and by its alias (format.js formats from it)
    body.metricRows = Object.fromEntries(body.metrics.flatMap((m) => (m.alias ? [[m.key, m], [m.alias, m]] : [[m.key, m]])));
    body.labels = Object.fromEntries(Object.entries(body.metricRows).map(([name, m]) => [name, m.label]));
    body.nullReasons = Object.fromEntries(body.metrics.map((m) => [m.key, m.null_reason]));
    return body;
  });
}

export function strategies() {
  return once("strategies", async () => (await api("/api/v1/strategies")).strategies);
}

export function datasets() {
  return once("datasets", async () => (await api("/api/v1/datasets")).datasets);
}

export function forgetDatasets() {
  cache.delete("datasets");
}

/** The display label of a metric key (the key itself when unknown). */
export function label(cat, key) {
  return cat.labels[key] || key;
}
