// Following a job as it runs: Server-Sent Events from GET /api/v1/jobs/{id}/stream when the
// API offers that route (seen in its OpenAPI document), else polling GET /api/v1/jobs/{id}
// every second. Either way `onJob` gets the whole job object, with its progress updated.

import { api, openApi } from "./api.js";

const STREAM_PATH = "/api/v1/jobs/{job_id}/stream";
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 1000;

let streamable = null;
export function streamSupported() {
  if (streamable === null) streamable = openApi().then((doc) => Boolean(doc.paths && doc.paths[STREAM_PATH]));
  return streamable;
}

/** Follow job `id`; `onJob(job)` on every change, `onError(error)` if it cannot be read.
 * Returns a function that stops following. */
export function followJob(id, onJob, onError = () => {}) {
  let stopped = false;
  let timer = null;
  let source = null;
  let last = null;

  const emit = (job) => {
    last = job;
    if (!stopped) onJob(job);
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const job = await api(`/api/v1/jobs/${encodeURIComponent(id)}`);
      emit(job);
      if (TERMINAL.has(job.status)) return;
    } catch (error) {
      if (stopped) return;
      onError(error);
      if (error.status === 404 || error.status === 401) return;
    }
    timer = setTimeout(poll, POLL_MS);
  };

  const stream = () => {
    source = new EventSource(`/api/v1/jobs/${encodeURIComponent(id)}/stream`, { withCredentials: true });
    source.onmessage = (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (data.done || data.error) {
        source.close();
        poll(); // one read of the final state (result, error, timestamps)
        return;
      }
      if (last && typeof data.percent === "number") {
        emit({ ...last, status: data.retry ? "queued" : data.status || "running", progress: { percent: data.percent, message: data.message ?? last.progress.message } });
      }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED && !stopped) {
        source = null;
        timer = setTimeout(poll, POLL_MS); // the stream is gone: fall back to polling
      }
    };
  };

  (async () => {
    try {
      const job = await api(`/api/v1/jobs/${encodeURIComponent(id)}`);
      emit(job);
      if (TERMINAL.has(job.status) || stopped) return;
    } catch (error) {
      onError(error);
      return;
    }
    if (await streamSupported()) stream();
    else timer = setTimeout(poll, POLL_MS);
  })();

  return () => {
    stopped = true;
    clearTimeout(timer);
    if (source) source.close();
  };
}
