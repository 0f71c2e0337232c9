// Data: the registered datasets (bundled samples included), and importing a CSV as a new
// ticker, with every problem of a refused file listed row by row.

import { api } from "../api.js";
import { h, add, clear, fill, field } from "../dom.js";
import { barTime, dateTime, int } from "../format.js";
import { datasets as loadDatasets, forgetDatasets } from "../state.js";
import { dataTable } from "../table.js";
import { badge, clearErrors, flash, pageHead, showErrors } from "../ui.js";

function datasetsTable(list) {
  const cols = [
    { key: "ticker", label: "Ticker", render: (d) => h("strong", {}, d.ticker) },
    { key: "start", label: "From", render: (d) => barTime(d.start) },
    { key: "end", label: "To", render: (d) => barTime(d.end) },
    { key: "bars", label: "Bars", num: true, render: (d) => int(d.bars) },
    { key: "interval", label: "Interval", render: (d) => d.interval || "irregular" },
    { key: "kind", label: "Kind", value: (d) => (d.bundled ? "bundled" : d.synthetic ? "synthetic" : "imported"), render: (d) => h("span", { class: `badge ${d.synthetic ? "cancelled" : d.bundled ? "queued" : "completed"}` }, d.bundled ? "bundled" : d.synthetic ? "synthetic" : "imported") },
    { key: "scope", label: "Owner", value: (d) => d.scope, render: (d) => (d.scope === "tenant" ? "yours" : `${d.scope} (read-only)`) },
    { key: "source", label: "Source", render: (d) => d.source },
    { key: "imported_at", label: "Imported", render: (d) => (d.imported_at ? dateTime(d.imported_at) : "—") },
    { key: "use", label: "Use", sortable: false, render: (d) => h("a", { href: `#/sweeps/new?ticker=${encodeURIComponent(d.ticker)}` }, `Sweep ${d.ticker}`) },
  ];
  return dataTable({ columns: cols, rows: list, pageSize: 50, name: "datasets", stack: true, sort: { key: "ticker", dir: "asc" } }).el;
}

function problemsTable(error) {
  const { errors = [], truncated, file } = error.details;
  const rows = errors.map((e) =>
    h("tr", {}, h("td", { class: "num", "data-label": "Line" }, e.line === null ? "—" : String(e.line)), h("td", { "data-label": "Column" }, e.column || "—"), h("td", { class: "cell-wrap", "data-label": "Problem" }, e.message), h("td", { class: "cell-wrap", "data-label": "How to fix" }, e.fix || "")),
  );
  return h(
    "section",
    { class: "card", id: "import-problems", "aria-labelledby": "problems-title", tabindex: "-1" },
    h("h2", { id: "problems-title" }, badge("failed"), ` ${int(errors.length)}${truncated ? "+" : ""} problem${errors.length === 1 ? "" : "s"} in ${file || "the file"}: nothing was imported`),
    truncated ? h("p", { class: "muted" }, `Only the first ${errors.length} are listed; correct them and upload again to see the rest.`) : null,
    h("div", { class: "table-wrap" }, h("table", { class: "stack", "aria-label": "Problems of the file, row by row" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "num" }, "Line"), h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Problem"), h("th", { scope: "col" }, "How to fix"))),
      h("tbody", {}, rows))),
    h("p", { class: "small muted" }, "Lines are counted as in a text editor: the header is line 1."),
  );
}

export async function render(main) {
  const listBox = h("div");
  const file = h("input", { type: "file", name: "file", accept: ".csv,.txt,.tsv,.parquet,.pq,text/csv", required: true });
  const fileField = field({ label: "File (CSV or Parquet)", control: file, name: "file", hint: "Columns: a date/time, open, high, low, close, volume (any usual spelling). Up to the server's body size limit (1 MiB by default)." });
  const ticker = h("input", { name: "ticker", required: true, autocomplete: "off", placeholder: "e.g. BTC-USD", maxlength: "40", spellcheck: "false" });
  const tickerField = field({ label: "Ticker", control: ticker, name: "ticker", hint: "1 to 40 characters: letters, digits, . _ - = ^ (not . _ - = first)" });
  const overwrite = h("input", { type: "checkbox", name: "overwrite" });
  const general = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit" }, "Import file");
  const result = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "Import a file"),
    h("div", { class: "row" }, fileField, tickerField, h("div", { class: "field" }, h("span", { class: "label" }, "Replace"), h("label", { class: "check" }, overwrite, "replace your earlier upload of this name"))),
    h("div", { class: "form-actions" }, submit),
    general,
  );
  const slots = { file: fileField, ticker: tickerField };

  async function showList() {
    forgetDatasets();
    const list = await loadDatasets();
    fill(listBox, datasetsTable(list));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    clear(result);
    const body = new FormData();
    if (file.files[0]) body.append("file", file.files[0]);
    body.append("ticker", ticker.value.trim());
    if (overwrite.checked) body.append("overwrite", "true");
    submit.disabled = true;
    try {
      const info = await api("/api/v1/datasets", { method: "POST", form: body });
      flash(`Imported ${info.ticker}: ${int(info.bars)} bars.`);
      add(result, h("div", { class: "alert info" }, `${info.ticker} is ready: ${int(info.bars)} bars from ${barTime(info.start)} to ${barTime(info.end)}. `, h("a", { href: `#/sweeps/new?ticker=${encodeURIComponent(info.ticker)}` }, `Sweep ${info.ticker}`)));
      form.reset();
      await showList();
    } catch (error) {
      if (error.status === 401) return;
      if (Array.isArray(error.details.errors) && error.details.errors.length && "line" in error.details.errors[0]) {
        const table = problemsTable(error);
        add(result, table);
        file.setAttribute("aria-invalid", "true");
        table.focus();
      } else {
        const first = showErrors(form, error, slots, general);
        if (first) first.focus();
      }
    } finally {
      submit.disabled = false;
    }
  });

  add(main, 
    pageHead("Data", "Datasets sweeps and backtests can use: your tenant's uploads (seen by no other tenant), and the server's shared and bundled data (read-only)."),
    form,
    result,
    h("section", { class: "card" }, h("h2", {}, "Registered datasets"), listBox),
  );
  await showList();
}
