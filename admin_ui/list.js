/**
 * The items of one section as a table, with a summary column or two each; plugins filtered by category;
 * certificates with the expiry of the certificate served (`api/certificates`).
 */
import { html, useEffect, useState } from "./lib.js";
import { call } from "./api.js";
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
export function List({ config, readonly, section }) {
  const [category, setCategory] = useState("");
  const [served, setServed] = useState({});
  useEffect(() => {
    if (section !== "certificates") return;
    call("GET", "/certificates").then(({ status, data }) => status === 200 && setServed(data)).catch(() => {});
  }, [section]);
  const items = Object.entries(config[section] ?? {})
    .filter(([, v]) => !category || v.category === category)
    .sort(([a], [b]) => a.localeCompare(b));
  const columns = SUMMARY[section] ?? [];
  const expiry = (name) => {
    const c = served[name];
    return c
      ? html`<td data-expires=${name}>${new Date(c.not_after * 1000).toISOString().slice(0, 10)}</td>`
      : html`<td></td>`;
  };
  const categories = section === "plugins"
    ? [...new Set(Object.values(config.plugins ?? {}).map((p) => p.category))].sort()
    : [];
  return html`<div class="list">
    <h2>${t(section)}</h2>
    <div class="toolbar">
      ${readonly ? "" : html`<a class="button primary" href=${`#/edit/${section}/`}>${t("add")}</a>`}
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
          <tr><th>${t("name")}</th>${columns.map((c) => html`<th>${c}</th>`)}${section === "certificates"
            ? html`<th>${t("expires")}</th>`
            : ""}<th></th></tr>
        </thead>
        <tbody>${items.map(([name, v]) =>
          html`<tr data-name=${name}>
          <td><a href=${`#/edit/${section}/${encodeURIComponent(name)}`}>${name}</a></td>
          ${columns.map((c) => html`<td>${cell(v[c])}</td>`)} ${section === "certificates" ? expiry(name) : ""}
          <td><a href=${`#/history/${section}/${encodeURIComponent(name)}`}>${t("history")}</a></td>
        </tr>`
        )}</tbody>
      </table>
    `
  }
  </div>`;
}
