// One job, followed live (SSE when the API offers it, else polling): status, progress and
// its latest message, timestamps, the request, the error; cancel, retry, open the result.
// With ?open=1 the result opens by itself when the job completes (a backtest started from a
// sweep row).

import { h, add, fill } from "../dom.js";
import { go } from "../app.js";
import { dateTime, duration } from "../format.js";
import { followJob } from "../live.js";
import { badge, errorBox, flash, pageHead, progressBar } from "../ui.js";
import { cancelJob, elapsed, isActive, resultHref, retryJob, summary, typeName } from "../jobs-common.js";

export function render(main, { params, query }) {
  const [id] = params;
  const head = h("div");
  const progress = h("section", { class: "card", "aria-labelledby": "progress-title" });
  const facts = h("section", { class: "card" });
  const request = h("section", { class: "card" });
  add(main, head, progress, h("div", { class: "grid two" }, facts, request));
  let opened = false;

  function actions(job) {
    const out = [];
    const href = resultHref(job);
    if (href) out.push(h("a", { class: "button", href, "data-action": "result" }, job.type === "sweep" ? "Open results" : job.type === "backtest" ? "Open backtest" : "Open report"));
    if (isActive(job)) {
      out.push(h("button", { type: "button", class: "danger", disabled: job.cancel_requested, "data-action": "cancel", onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          const after = await cancelJob(job);
          flash(after.status === "cancelled" ? "Job cancelled." : "Cancel requested: the job stops within seconds.");
        } catch (error) {
          flash(error.message, { error: true });
        }
      } }, job.cancel_requested ? "Cancelling…" : "Cancel job"));
    }
    if (job.status === "failed" || job.status === "cancelled") {
      out.push(h("button", { type: "button", class: "secondary", "data-action": "retry", onclick: async () => {
        try {
          const again = await retryJob(job);
          flash(`Submitted again as job ${again.job_id.slice(0, 8)}.`);
          go(`/jobs/${again.job_id}`);
        } catch (error) {
          flash(error.message, { error: true });
        }
      } }, "Retry"));
    }
    return out;
  }

  let headKey = null;
  function show(job) {
    // The heading and buttons are rebuilt only when they change, so focus and screen readers
    // are not disturbed by every progress tick.
    const key = `${job.status}|${job.cancel_requested}|${resultHref(job)}`;
    if (key !== headKey) {
      headKey = key;
      const focusedAction = document.activeElement && head.contains(document.activeElement) ? document.activeElement.dataset.action : null;
      fill(head, pageHead(`${typeName(job.type)} job`, `${job.ticker || ""} · ${summary(job)}`, ...actions(job)));
      const again = focusedAction && head.querySelector(`[data-action="${focusedAction}"]`);
      if (again) again.focus();
      else if (!main.contains(document.activeElement)) head.querySelector("h1").focus({ preventScroll: true });
    }
    fill(progress, 
      h("h2", { id: "progress-title" }, "Progress ", badge(job.status)),
      progressBar(job.progress.percent, job.status, { label: "Job progress", big: true }),
      h("p", { class: "muted", "aria-live": "polite" }, job.progress.message || ""),
      job.error ? h("div", { class: "alert", role: "alert" }, h("strong", {}, "Failed: "), job.error) : null,
      job.cancel_requested && isActive(job) ? h("div", { class: "alert warn" }, "Cancel requested: the worker stops the job within seconds.") : null,
    );
    const seconds = elapsed(job);
    const metrics = job.metrics || {};
    fill(facts, 
      h("h2", {}, "Timeline"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Job id"), h("dd", {}, h("code", {}, job.job_id)),
        h("dt", {}, "Created"), h("dd", {}, dateTime(job.created_at)),
        h("dt", {}, "Started"), h("dd", {}, dateTime(job.started_at)),
        h("dt", {}, "Finished"), h("dd", {}, dateTime(job.completed_at)),
        h("dt", {}, "Duration"), h("dd", {}, seconds === null ? "—" : duration(seconds)),
        h("dt", {}, "Attempts"), h("dd", {}, String(job.attempts)),
        metrics.combinations_tested !== undefined ? [h("dt", {}, "Combinations tested"), h("dd", {}, metrics.combinations_tested.toLocaleString("en-US"))] : null,
        metrics.combinations_per_second !== undefined ? [h("dt", {}, "Speed"), h("dd", {}, `${Math.round(metrics.combinations_per_second).toLocaleString("en-US")} combinations/s`)] : null,
        job.webhook_url ? [h("dt", {}, "Webhook"), h("dd", {}, job.webhook_url)] : null,
      ),
    );
    fill(request, h("h2", {}, "Request"), h("pre", { class: "mono small", style: "white-space:pre-wrap;margin:0" }, JSON.stringify(job.parameters, null, 2)));
    const href = resultHref(job);
    if (href && query.open === "1" && !opened) {
      opened = true;
      window.location.replace(href);
    }
  }

  const stop = followJob(id, show, (error) => {
    if (error.status === 401) return;
    fill(head, pageHead("Job", id), errorBox(error));
  });
  return stop;
}
