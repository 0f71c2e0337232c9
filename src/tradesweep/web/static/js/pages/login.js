// Sign in with an API key: POST /api/v1/auth/login sets an HttpOnly session cookie.

import { api } from "../api.js";
import { h, add, field } from "../dom.js";
import { session } from "../state.js";
import { go } from "../app.js";
import { clearErrors, flash } from "../ui.js";

export function render(main, { query }) {
  const key = h("input", { type: "password", name: "api_key", autocomplete: "current-password", required: true, spellcheck: "false", placeholder: "ts_…" });
  const keyField = field({ label: "API key", control: key, name: "api_key", hint: "Create one on the server with: tradesweep keys create --tenant NAME" });
  const submit = h("button", { type: "submit" }, "Sign in");
  // A username field (hidden) lets password managers store the key under a name.
  const user = h("input", { type: "text", name: "username", autocomplete: "username", value: "tradesweep API key", hidden: true, tabindex: "-1", "aria-hidden": "true" });
  const form = h("form", { class: "card", novalidate: true }, user, keyField, h("div", { class: "form-actions" }, submit));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const who = await api("/api/v1/auth/login", { method: "POST", json: { api_key: key.value.trim() } });
      session.signIn(who.tenant);
      flash(`Signed in as tenant ${who.tenant}.`);
      const next = query.next && query.next !== "/login" ? query.next : "/jobs";
      go(next);
    } catch (error) {
      const slot = keyField.querySelector(".field-error");
      slot.textContent = error.status === 401 ? "That key is not valid (or was revoked). Check it and try again." : error.message;
      slot.hidden = false;
      key.setAttribute("aria-invalid", "true");
      key.focus();
    } finally {
      submit.disabled = false;
    }
  });

  add(main, 
    h(
      "section",
      { class: "signin" },
      h("h1", { tabindex: "-1" }, "Sign in"),
      h("p", { class: "muted" }, "Run parameter sweeps, watch them live and read the ranked results. Everything here goes through the same REST API as scripts do (", h("a", { href: "/docs" }, "API docs"), ")."),
      form,
    ),
  );
  key.focus();
}
