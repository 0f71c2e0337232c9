// The dashboard shell: sign-in state, navigation, and a hash router (#/jobs, #/sweeps/ID, ...).
// Each page is a module exporting render(main, {params, query}) that may return a cleanup
// function (stop polling, close streams) run when the user leaves the page.

import { api, setUnauthorizedHandler } from "./api.js";
import { h, add, clear, fill } from "./dom.js";
import { session } from "./state.js";
import { errorBox, flash } from "./ui.js";

const ROUTES = [
  [/^\/login$/, () => import("./pages/login.js"), null],
  [/^\/jobs$/, () => import("./pages/jobs.js"), "jobs"],
  [/^\/jobs\/([^/]+)$/, () => import("./pages/job.js"), "jobs"],
  [/^\/sweeps\/new$/, () => import("./pages/sweep-new.js"), "sweeps"],
  [/^\/sweeps\/([^/]+)$/, () => import("./pages/sweep.js"), "jobs"],
  [/^\/backtests\/new$/, () => import("./pages/backtest-new.js"), "backtests"],
  [/^\/backtests\/([^/]+)$/, () => import("./pages/backtest.js"), "jobs"],
  [/^\/walkforward\/new$/, () => import("./pages/walkforward-new.js"), "walkforward"],
  [/^\/walkforward\/([^/]+)$/, () => import("./pages/walkforward.js"), "walkforward"],
  [/^\/data$/, () => import("./pages/data.js"), "data"],
];

const main = document.getElementById("main");
let cleanup = null;
let generation = 0;

export function go(path) {
  window.location.hash = `#${path}`;
}

function parseHash() {
  const raw = window.location.hash.replace(/^#/, "") || "/jobs";
  const [path, search = ""] = raw.split("?");
  return { path, query: Object.fromEntries(new URLSearchParams(search)) };
}

function showChrome(signedIn) {
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("who").hidden = !signedIn;
  document.getElementById("tenant").textContent = signedIn ? `tenant ${session.tenant}` : "";
}

function markNav(section) {
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  const mine = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.warn("page cleanup failed", error);
    }
    cleanup = null;
  }
  const { path, query } = parseHash();
  const signedIn = Boolean(session.tenant);
  if (!signedIn && path !== "/login") {
    go(`/login?next=${encodeURIComponent(path)}`);
    return;
  }
  showChrome(signedIn && path !== "/login");
  const match = ROUTES.map(([re, load, section]) => [path.match(re), load, section]).find(([m]) => m);
  clear(main);
  if (!match) {
    add(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, "No page at ", h("code", {}, path), ". ", h("a", { href: "#/jobs" }, "Go to the jobs")));
    return;
  }
  const [m, load, section] = match;
  markNav(section);
  try {
    const page = await load();
    if (mine !== generation) return;
    const params = m.slice(1).map(decodeURIComponent);
    const result = await page.render(main, { params, query });
    if (mine !== generation) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
    const heading = main.querySelector("h1");
    if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  } catch (error) {
    if (mine !== generation || error.status === 401) return;
    fill(main, h("h1", { tabindex: "-1" }, "Something went wrong"), errorBox(error));
    console.warn(error);
  }
}

setUnauthorizedHandler(() => {
  if (!session.tenant) return;
  session.signOut();
  flash("Your session has ended: sign in again.", { error: true });
  go(`/login?next=${encodeURIComponent(parseHash().path)}`);
});

document.getElementById("signout").addEventListener("click", async () => {
  try {
    await api("/api/v1/auth/logout", { method: "POST" });
  } finally {
    session.signOut();
    flash("Signed out.");
    go("/login");
  }
});

window.addEventListener("hashchange", route);
route();
