/**
 * The items of one section as a table, with a summary column or two each; plugins filtered by category;
 * certificates with the expiry of the certificate served (`api/certificates`); Rename per row (the proxy renames
 * every reference too, after the compiler's check).
 */
import { html, useEffect, useState } from "./lib.js";
import { call, itemRoute } from "./api.js";
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

/** The name cell while renaming: the new name, OK and Cancel; the proxy's refusal under it. */
function RenameCell({ section, name, done, refresh, notify }) {
  const [to, setTo] = useState(name);
  const [error, setError] = useState("");
  async function submit(e) {
    e.preventDefault();
    const { status, data } = await call("POST", `${itemRoute(section, name)}/rename`, { to });
    if (status !== 204) {
      return setError(data?.diagnostics?.map((d) => `${d.key}: ${d.message}`).join("\n") || data?.message || "");
    }
    notify(t("renamed"));
    done();
    await refresh();
  }
  return html`
    <td>
      <form class="rename" onSubmit=${submit}>
        <input class="rename-to" value=${to} onInput=${(e) => setTo(e.currentTarget.value)} aria-label=${t("name")} />
        <button type="submit" class="primary">${t("rename")}</button>
        <button type="button" onClick=${done}>${t("cancel")}</button>
        ${error ? html`<pre class="error" role="alert">${error}</pre>` : ""}
      </form>
    </td>
  `;
}

/** The list of `section`. */
export function List({ config, readonly, section, refresh, notify }) {
  const [category, setCategory] = useState("");
  const [renaming, setRenaming] = useState("");
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
          ${
            renaming === name
              ? html`
                <${RenameCell} key=${name} section=${section} name=${name} done=${() => setRenaming("")}
                  refresh=${refresh} notify=${notify} />
              `
              : html`<td><a href=${`#/edit/${section}/${encodeURIComponent(name)}`}>${name}</a></td>`
          }
          ${columns.map((c) => html`<td>${cell(v[c])}</td>`)} ${section === "certificates" ? expiry(name) : ""}
          <td class="row-actions"><a href=${`#/history/${section}/${encodeURIComponent(name)}`}>${t("history")}</a>
            ${
            readonly || renaming === name
              ? ""
              : html`<button type="button" class="link rename-start" onClick=${() => setRenaming(name)}>${
                t("rename")
              }</button>`
          }</td>
        </tr>`
        )}</tbody>
      </table>
    `
  }
  </div>`;
}
