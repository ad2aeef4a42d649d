/** The items of one section as a table, with a summary column or two each; plugins filtered by category. */
import { html, useState } from "./lib.js";
import { t } from "./i18n.js";

const SUMMARY = {
  servers: ["addr", "locations"],
  locations: ["path", "host", "upstream", "plugins"],
  upstreams: ["addrs", "algo"],
  plugins: ["category", "step"],
  certificates: ["domains", "acme"],
  storages: ["category"],
};

function cell(v) {
  if (v === undefined || v === null) return "";
  return Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** The list of `section`. */
export function List({ config, section }) {
  const [category, setCategory] = useState("");
  const items = Object.entries(config[section] ?? {})
    .filter(([, v]) => !category || v.category === category)
    .sort(([a], [b]) => a.localeCompare(b));
  const columns = SUMMARY[section] ?? [];
  const categories = section === "plugins"
    ? [...new Set(Object.values(config.plugins ?? {}).map((p) => p.category))].sort()
    : [];
  return html`<div class="list">
    <h2>${t(section)}</h2>
    <div class="toolbar">
      <a class="button primary" href=${`#/edit/${section}/`}>${t("add")}</a>
      ${
    section === "plugins"
      ? html`<label>${t("category")} <select onChange=${(e) => setCategory(e.currentTarget.value)}>
        <option value="">${t("all")}</option>${categories.map((c) => html`<option value=${c}>${c}</option>`)}
      </select></label>`
      : ""
  }
    </div>
    ${
    items.length === 0 ? html`<p class="muted">${t("empty")}</p>` : html`
      <table>
        <thead>
          <tr><th>${t("name")}</th>${columns.map((c) => html`<th>${c}</th>`)}<th></th></tr>
        </thead>
        <tbody>${items.map(([name, v]) =>
          html`<tr data-name=${name}>
          <td><a href=${`#/edit/${section}/${encodeURIComponent(name)}`}>${name}</a></td>
          ${columns.map((c) => html`<td>${cell(v[c])}</td>`)}
          <td><a href=${`#/history/${section}/${encodeURIComponent(name)}`}>${t("history")}</a></td>
        </tr>`
        )}</tbody>
      </table>
    `
  }
  </div>`;
}
