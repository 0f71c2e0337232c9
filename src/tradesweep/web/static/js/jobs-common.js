// What the jobs list and the job page share: where a job's result is, a one-line summary of
// what it runs, and the cancel and retry actions.

import { api } from "./api.js";
import { params as paramText } from "./format.js";

export const SUBMIT_PATHS = {
  sweep: "/api/v1/strategy/sweep",
  backtest: "/api/v1/backtests",
  walkforward: "/api/v1/walkforward",
};

const TYPE_NAMES = { sweep: "Sweep", backtest: "Backtest", walkforward: "Walk-forward" };

export function typeName(type) {
  return TYPE_NAMES[type] || type;
}

/** The dashboard page of a job's result, or null while it has none. */
export function resultHref(job) {
  if (job.status !== "completed") return null;
  if (job.type === "sweep") return `#/sweeps/${job.job_id}`;
  if (job.type === "walkforward") return `#/walkforward/${job.job_id}`;
  if (job.type === "backtest") {
    const link = (job.links || {}).backtest || "";
    const id = (job.result && job.result.backtest_run_id) || link.split("/").pop();
    return id ? `#/backtests/${id}` : null;
  }
  return null;
}

/** "SMA fast 5–20, slow 30–60 step 5" from the request a job was submitted with. */
export function summary(job) {
  const p = job.parameters || {};
  const parts = [p.strategy_type || ""];
  if (p.fast_range) parts.push(`fast ${p.fast_range[0]}–${p.fast_range[1]}`);
  if (p.slow_range) parts.push(`slow ${p.slow_range[0]}–${p.slow_range[1]}`);
  if (p.step && (p.fast_range || p.slow_range)) parts.push(`step ${p.step}`);
  for (const [name, spec] of Object.entries(p.ranges || {})) parts.push(`${name} ${rangeText(spec)}`);
  if (job.type === "backtest") {
    const values = { ...(p.parameters || {}) };
    if (p.fast_period) values.fast = p.fast_period;
    if (p.slow_period) values.slow = p.slow_period;
    if (Object.keys(values).length) parts.push(paramText(values));
  }
  if (job.type === "walkforward" && p.train_bars) parts.push(`train ${p.train_bars} / test ${p.test_bars} bars`);
  return parts.filter(Boolean).join(" · ");
}

function rangeText(spec) {
  if (spec && typeof spec === "object" && !Array.isArray(spec)) {
    if ("values" in spec) return spec.values.join(", ");
    return `${spec.min}–${spec.max}${spec.step ? ` step ${spec.step}` : ""}`;
  }
  return Array.isArray(spec) ? spec.join(", ") : String(spec);
}

export function cancelJob(job) {
  return api(`/api/v1/jobs/${encodeURIComponent(job.job_id)}/cancel`, { method: "POST" });
}

/** Submit the same request again (a new job): the public API has no retry endpoint. */
export function retryJob(job) {
  return api(SUBMIT_PATHS[job.type], { method: "POST", json: job.parameters });
}

export function isActive(job) {
  return job.status === "queued" || job.status === "running";
}

export function elapsed(job) {
  if (job.metrics && typeof job.metrics.duration_seconds === "number" && job.status === "completed") return job.metrics.duration_seconds;
  if (!job.started_at) return null;
  const end = job.completed_at ? new Date(job.completed_at) : new Date();
  return (end - new Date(job.started_at)) / 1000;
}
