// A sortable, paged table. Headers are buttons (keyboard reachable, aria-sort set); nulls
// sort last in either direction; rows may open something (a button in the row, and a click
// anywhere on it).

import { h, clear, fill } from "./dom.js";
import { int } from "./format.js";

/**
 * columns: [{key, label, value(row) -> sortable raw value, render(row) -> string | Node |
 *   {text, cls, title}, num: right-aligned, sortable: default true, title: header tooltip}]
 * options: rows, pageSize, caption, rowClass(row), open: {label(row), onOpen(row)}, stack
 * (cards on phones), sort: {key, dir: "asc" | "desc"}.
 */
export function dataTable({ columns, rows, pageSize = 50, caption, rowClass, open, stack = false, sort, name = "table" }) {
  const state = { rows: rows.slice(), key: sort ? sort.key : null, dir: sort ? sort.dir : "desc", page: 0 };
  const table = h("table", { class: stack ? "stack" : "" });
  const thead = h("thead");
  const tbody = h("tbody");
  const pager = h("div", { class: "pager" });
  if (caption) table.append(h("caption", {}, caption));
  table.append(thead, tbody);
  const wrap = h("div", {}, h("div", { class: "table-wrap" }, table), pager);

  const valueOf = (col, row) => (col.value ? col.value(row) : row[col.key]);

  function sorted() {
    if (!state.key) return state.rows;
    const col = columns.find((c) => c.key === state.key);
    const sign = state.dir === "asc" ? 1 : -1;
    return state.rows
      .map((row, i) => [row, valueOf(col, row), i])
      .sort((a, b) => {
        const [va, vb] = [a[1], b[1]];
        const na = va === null || va === undefined || (typeof va === "number" && Number.isNaN(va));
        const nb = vb === null || vb === undefined || (typeof vb === "number" && Number.isNaN(vb));
        if (na || nb) return na === nb ? a[2] - b[2] : na ? 1 : -1;
        const cmp = typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb), "en", { numeric: true });
        return cmp === 0 ? a[2] - b[2] : sign * cmp;
      })
      .map((x) => x[0]);
  }

  function renderHead() {
    const cells = columns.map((col) => {
      const active = state.key === col.key;
      const ariaSort = active ? (state.dir === "asc" ? "ascending" : "descending") : "none";
      const th = h("th", { scope: "col", class: col.num ? "num" : "", "aria-sort": col.sortable === false ? null : ariaSort, title: col.title || null });
      if (col.sortable === false) {
        th.append(col.label);
      } else {
        th.append(
          h(
            "button",
            {
              type: "button",
              class: "sort",
              "data-sort": col.key,
              onclick: () => {
                if (state.key === col.key) state.dir = state.dir === "asc" ? "desc" : "asc";
                else [state.key, state.dir] = [col.key, col.num ? "desc" : "asc"];
                state.page = 0;
                render();
              },
            },
            col.label,
            h("span", { class: "arrow", "aria-hidden": "true" }, active ? (state.dir === "asc" ? "▲" : "▼") : "↕"),
          ),
        );
      }
      return th;
    });
    if (open) cells.unshift(h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Open")));
    fill(thead, h("tr", {}, cells));
  }

  function cell(col, row) {
    let out = col.render ? col.render(row) : row[col.key];
    const td = h("td", { class: col.num ? "num" : "", "data-label": col.label, "data-col": col.key });
    if (out instanceof Node) td.append(out);
    else if (out && typeof out === "object") {
      td.append(out.text);
      if (out.cls) td.classList.add(out.cls);
      if (out.title) td.title = out.title;
    } else td.append(out === null || out === undefined ? "—" : String(out));
    return td;
  }

  function render() {
    renderHead();
    const all = sorted();
    const pages = Math.max(1, Math.ceil(all.length / pageSize));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * pageSize;
    const slice = all.slice(start, start + pageSize);
    clear(tbody);
    for (const row of slice) {
      const tr = h("tr", { class: [rowClass ? rowClass(row) : "", open ? "clickable" : ""].join(" ").trim() || null });
      if (open) {
        tr.append(h("td", { "data-label": "" }, h("button", { type: "button", class: "small secondary", onclick: (e) => { e.stopPropagation(); open.onOpen(row, e.currentTarget); } }, open.label(row))));
        tr.addEventListener("click", (e) => {
          if (e.target.closest("a, button, input, select")) return;
          open.onOpen(row, tr.querySelector("button"));
        });
      }
      for (const col of columns) tr.append(cell(col, row));
      tbody.append(tr);
    }
    if (!slice.length) tbody.append(h("tr", {}, h("td", { colspan: String(columns.length + (open ? 1 : 0)), class: "muted" }, "Nothing to show.")));
    clear(pager);
    if (all.length > pageSize) {
      pager.append(
        h("span", { class: "muted small", "aria-live": "polite" }, `Rows ${int(start + 1)}–${int(Math.min(all.length, start + pageSize))} of ${int(all.length)}`),
        h("button", { type: "button", class: "small secondary", disabled: state.page === 0, onclick: () => { state.page -= 1; render(); }, "aria-label": `Previous page of the ${name}` }, "‹ Previous"),
        h("button", { type: "button", class: "small secondary", disabled: state.page >= pages - 1, onclick: () => { state.page += 1; render(); }, "aria-label": `Next page of the ${name}` }, "Next ›"),
      );
    }
  }

  render();
  return {
    el: wrap,
    setRows(next) {
      state.rows = next.slice();
      render();
    },
  };
}
