// Jobs: every job of the tenant, newest first, with live status and progress (the list is
// read again every two seconds while the page is open), filters, cancel and retry.

import { api } from "../api.js";
import { h, add, clear, fill, field, debounce } from "../dom.js";
import { go } from "../app.js";
import { ago, dateTime, duration } from "../format.js";
import { badge, errorBox, flash, pageHead, progressBar } from "../ui.js";
import { cancelJob, elapsed, isActive, resultHref, retryJob, summary, typeName } from "../jobs-common.js";

const REFRESH_MS = 2000;
const PAGE = 50;
const MAX = 200;

export function render(main, { query }) {
  const filters = { status: query.status || "", type: query.type || "", ticker: query.ticker || "" };
  let limit = PAGE;
  let timer = null;
  let stopped = false;

  const status = h("select", { name: "status" }, ["", "queued", "running", "completed", "failed", "cancelled"].map((s) => h("option", { value: s, selected: s === filters.status }, s || "any status")));
  const type = h("select", { name: "type" }, ["", "sweep", "backtest", "walkforward"].map((t) => h("option", { value: t, selected: t === filters.type }, t ? typeName(t) : "any type")));
  const ticker = h("input", { name: "ticker", value: filters.ticker, placeholder: "e.g. GOOGL", autocomplete: "off" });
  const form = h("form", { class: "card", role: "search", "aria-label": "Filter jobs" }, h("div", { class: "row" }, field({ label: "Status", control: status, name: "status" }), field({ label: "Type", control: type, name: "type" }), field({ label: "Ticker", control: ticker, name: "ticker" })));
  form.addEventListener("submit", (e) => e.preventDefault());

  const applyFilters = () => {
    const next = new URLSearchParams(Object.entries({ status: status.value, type: type.value, ticker: ticker.value.trim() }).filter(([, v]) => v));
    const qs = next.toString();
    go(`/jobs${qs ? `?${qs}` : ""}`);
  };
  status.addEventListener("change", applyFilters);
  type.addEventListener("change", applyFilters);
  ticker.addEventListener("input", debounce(applyFilters, 500));

  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "stack", "aria-label": "Jobs" },
    h("thead", {}, h("tr", {}, ["Job", "Ticker", "What", "Status", "Progress", "Created", "Duration", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
    tbody,
  );
  const more = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => { limit = Math.min(MAX, limit + PAGE); refresh(); } }, "Show older jobs");
  const problem = h("div");
  const updated = h("p", { class: "muted small", "aria-live": "off" });

  function row(job) {
    const href = resultHref(job);
    const actions = [h("a", { class: "button small secondary", href: `#/jobs/${job.job_id}`, "data-action": "open" }, "Details")];
    if (href) actions.push(h("a", { class: "button small", href, "data-action": "result" }, "Results"));
    if (isActive(job)) {
      actions.push(
        h("button", { type: "button", class: "small danger", "data-action": "cancel", disabled: job.cancel_requested, "aria-label": `Cancel job ${job.job_id.slice(0, 8)}`, onclick: async (e) => {
          const button = e.currentTarget;
          button.disabled = true;
          try {
            const after = await cancelJob(job);
            flash(after.status === "cancelled" ? "Job cancelled." : "Cancel requested: the job stops within seconds.");
          } catch (error) {
            flash(error.message, { error: true });
          }
          refresh();
        } }, job.cancel_requested ? "Cancelling…" : "Cancel"),
      );
    }
    if (job.status === "failed" || job.status === "cancelled") {
      actions.push(
        h("button", { type: "button", class: "small secondary", "data-action": "retry", "aria-label": `Retry job ${job.job_id.slice(0, 8)}`, onclick: async (e) => {
          const button = e.currentTarget;
          button.disabled = true;
          try {
            const again = await retryJob(job);
            flash(`Submitted again as job ${again.job_id.slice(0, 8)}.`);
            go(`/jobs/${again.job_id}`);
          } catch (error) {
            flash(error.message, { error: true });
            button.disabled = false;
          }
        } }, "Retry"),
      );
    }
    const seconds = elapsed(job);
    return h(
      "tr",
      { "data-job": job.job_id, "data-status": job.status },
      h("td", { "data-label": "Job" }, h("a", { href: `#/jobs/${job.job_id}` }, `${typeName(job.type)} `, h("code", {}, job.job_id.slice(0, 8)))),
      h("td", { "data-label": "Ticker" }, job.ticker || "—"),
      h("td", { "data-label": "What", class: "cell-wrap" }, summary(job)),
      h("td", { "data-label": "Status" }, badge(job.status), job.error ? h("div", { class: "small loss", title: job.error }, job.error.slice(0, 80)) : null),
      h("td", { "data-label": "Progress" }, progressBar(job.progress.percent, job.status, { label: `Progress of ${typeName(job.type).toLowerCase()} job ${job.job_id.slice(0, 8)}` })),
      h("td", { "data-label": "Created", title: dateTime(job.created_at) }, ago(job.created_at)),
      h("td", { "data-label": "Duration", class: "num" }, seconds === null ? "—" : duration(seconds)),
      h("td", { "data-label": "Actions" }, h("div", { class: "row-actions" }, actions)),
    );
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const page = await api("/api/v1/jobs", { query: { ...filters, limit } });
      if (stopped) return;
      const focused = document.activeElement;
      const focusKey = focused && tbody.contains(focused) ? [focused.closest("tr").dataset.job, focused.dataset.action] : null;
      fill(tbody, ...page.jobs.map(row));
      if (!page.jobs.length) tbody.append(h("tr", {}, h("td", { colspan: "8", class: "muted" }, "No jobs yet. ", h("a", { href: "#/sweeps/new" }, "Start a sweep"), ".")));
      if (focusKey) {
        const again = tbody.querySelector(`tr[data-job="${focusKey[0]}"] [data-action="${focusKey[1]}"]`);
        if (again && !again.disabled) again.focus();
      }
      more.hidden = !page.next_cursor || limit >= MAX;
      clear(problem);
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
    } catch (error) {
      if (stopped || error.status === 401) return;
      fill(problem, errorBox(error));
    }
    if (!stopped) timer = setTimeout(refresh, document.hidden ? REFRESH_MS * 5 : REFRESH_MS);
  }

  add(main, 
    pageHead("Jobs", "Sweeps, backtests and walk-forward analyses you submitted, newest first.", h("a", { class: "button", href: "#/sweeps/new" }, "New sweep"), h("a", { class: "button secondary", href: "#/backtests/new" }, "New backtest")),
    form,
    problem,
    h("div", { class: "table-wrap" }, table),
    h("div", { class: "pager" }, updated, more),
  );
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
