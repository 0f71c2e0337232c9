// The public REST API, and nothing else: every call the dashboard makes is one a script could make.

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.error || `http_${status}`;
    this.details = body.details || {};
  }
}

let onUnauthorized = () => {};

/** Called with the error whenever the API answers 401 (the session ended). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * api("/api/v1/jobs", {query: {status: "running"}}), api(path, {method: "POST", json: {...}})
 * or {form: FormData}. Resolves with the parsed JSON (null for 204); rejects with ApiError.
 */
export async function api(path, { method = "GET", json, form, query, signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(url, { method, headers, body, signal, credentials: "same-origin" });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : { message: await response.text() };
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !path.endsWith("/auth/login")) onUnauthorized(error);
    throw error;
  }
  return data;
}

/**
 * The API's error as messages per form field:
 * validation errors name `details.errors[].field`; domain errors name the request's field in
 * `details.field` and the place in it in `details.path`: a strategy parameter
 * (`parameters.NAME`, `ranges.NAME[.max]`: "param:NAME"), an engine setting (`settings.NAME`:
 * "setting:NAME") or a top-level field (`fast_range.max`: "fast_range"). Anything else is "_form".
 */
function slotOf(details) {
  const path = String(details.path || details.field || "");
  const parts = path.split(".");
  if ((parts[0] === "parameters" || parts[0] === "ranges") && parts.length > 1) return `param:${parts[1]}`;
  if (parts[0] === "settings" && parts.length > 1) return `setting:${parts[1]}`;
  return parts[0];
}

export function fieldErrors(error) {
  const out = new Map();
  const add = (key, message) => {
    if (!out.has(key)) out.set(key, []);
    out.get(key).push(message);
  };
  const details = error.details || {};
  if (Array.isArray(details.errors) && details.errors.length && details.errors[0].field && !("line" in details.errors[0])) {
    for (const item of details.errors) add(item.field || "_form", item.message);
  } else if (details.path || details.field) {
    add(slotOf(details), error.message);
  } else {
    add("_form", error.message);
  }
  return out;
}

let openapi = null;
/** The API's OpenAPI document (public), fetched once: used to see which routes exist. */
export function openApi() {
  if (!openapi) {
    openapi = fetch("/openapi.json", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { paths: {} }))
      .catch(() => ({ paths: {} }));
  }
  return openapi;
}

/** The JSON-schema properties of a route's request body, by path and method. */
export async function requestProperties(path, method = "post") {
  const doc = await openApi();
  const op = (doc.paths[path] || {})[method] || {};
  const content = (op.requestBody || {}).content || {};
  const schema = (content["application/json"] || {}).schema || {};
  return schema.properties || {};
}
