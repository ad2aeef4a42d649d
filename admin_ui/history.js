/** The versions of one item, newest first, each with its diff against the current value and a one-click restore. */
import { html, useEffect, useState } from "./lib.js";
import { call, category } from "./api.js";
import { t } from "./i18n.js";
import { Diff, itemText } from "./diff.js";
import { ReadonlyNote } from "./readonly_note.js";

/** The history page of `section`'s item `name`. */
export function History({ config, readonly, section, name, refresh, notify }) {
  const [versions, setVersions] = useState(null);
  const [message, setMessage] = useState("");
  const route = section === "basic"
    ? "/config-history/basic"
    : `/config-history/${category(section)}/${encodeURIComponent(name)}`;
  const load = () => call("GET", route).then(({ data }) => setVersions(data.history ?? []));
  useEffect(() => {
    load();
  }, [route]);
  const current = itemText(section === "basic" ? config.basic : config[section]?.[name]);

  async function restore(id) {
    const { status, data } = await call("POST", `${route}/restore`, { id });
    if (status === 204) {
      notify(t("restored"));
      setMessage("");
      await refresh();
      await load();
    } else {
      setMessage(data?.diagnostics?.map((d) => `${d.key}: ${d.message}`).join("\n") || data?.message || String(data));
    }
  }

  return html`<div class="history">
    <h2>${t("history")}: ${t(section)}${section === "basic" ? "" : ` / ${name}`}</h2>
    <p><a href=${`#/edit/${section}/${encodeURIComponent(name)}`}>${t("back")}</a></p>
    ${readonly ? html`<${ReadonlyNote} />` : ""}
    ${message ? html`<pre class="error" role="alert">${message}</pre>` : ""}
    ${
    versions === null
      ? html`<p class="muted">…</p>`
      : versions.length === 0
      ? html`<p class="muted">${t("empty")}</p>`
      : ""
  }
    ${
    (versions ?? []).map((v, i) => {
      const text = itemText(v.data);
      const same = text === current;
      return html`<section class="version card" data-version=${i}>
        <h3>${new Date(v.created_at * 1000).toLocaleString()} ${v.user ? html`<small>${t("by")} ${v.user}</small>` : ""}
          ${
        v.data === null
          ? html`
            <small>${t("deletedVersion")}</small>
          `
          : ""
      }
          ${
        same
          ? html`
            <small class="tag">${t("current")}</small>
          `
          : ""
      }
          ${
        readonly
          ? ""
          : html`<button type="button" class="restore" disabled=${same} onClick=${() => restore(v.id)}>${
            t("restore")
          }</button>`
      }
        </h3>
        ${same ? "" : html`<${Diff} before=${current} after=${text} />`}
      </section>`;
    })
  }
  </div>`;
}
