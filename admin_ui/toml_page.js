/**
 * The whole config as TOML (secrets masked), editable and imported after the compiler's check; beside it, read-only
 * views: the TOML with includes merged, HCL and KDL (`api/configs/full`). A read-only login only reads.
 */
import { html, useEffect, useState } from "./lib.js";
import { call } from "./api.js";
import { t } from "./i18n.js";
import { Diff } from "./diff.js";
import { ReadonlyNote } from "./readonly_note.js";

const VIEWS = [["original", "viewOriginal"], ["full", "viewFull"], ["hcl", "viewHcl"], ["kdl", "viewKdl"]];

/** The TOML view and import page. */
export function TomlPage({ readonly, refresh, notify }) {
  const [text, setText] = useState(null);
  const [views, setViews] = useState({});
  const [view, setView] = useState("original");
  const [check, setCheck] = useState({ state: "idle" });
  useEffect(() => {
    call("GET", "/configs/full").then(({ data }) => (setViews(data), setText(data.original)));
  }, []);
  if (text === null) return html`<p class="muted">…</p>`;

  async function run(dryRun) {
    setCheck({ state: "checking" });
    const { status, data } = await call("POST", `/configs/import${dryRun ? "?dry_run=1" : ""}`, text);
    if (status === 200) return setCheck({ state: "ok", ...data });
    if (status === 204) {
      notify(t("imported"));
      setCheck({ state: "idle" });
      return await refresh();
    }
    setCheck({ state: "error", diagnostics: data?.diagnostics ?? [], message: data?.message ?? String(data) });
  }

  return html`<div class="toml">
    <h2>${t("toml")}</h2>
    <div class="toolbar views" role="tablist">${
    VIEWS.map(([v, key]) =>
      html`
        <button type="button" role="tab" data-view=${v} aria-selected=${view === v} class=${view === v ? "active" : ""}
          onClick=${() => setView(v)}>${t(key)}</button>
      `
    )
  }</div>
    ${
    view === "original"
      ? html`
        <textarea id="toml" rows="24" spellcheck="false" value=${text} readOnly=${readonly}
          onInput=${(e) => (setText(e.currentTarget.value), setCheck({ state: "idle" }))} />
      `
      : html`
        <textarea id="toml-view" rows="24" spellcheck="false" readOnly value=${views[view] ?? ""} />
        <p class="muted">${t("viewOnly")}</p>
      `
  }
    ${
    readonly ? html`<${ReadonlyNote} />` : view === "original"
      ? html`
        <div class="actions">
          <button type="button" id="toml-check" onClick=${() => run(true)}>${t("check")}</button>
          <button type="button" id="toml-import" class="primary" disabled=${check.state !== "ok"} onClick=${() =>
            run(false)}>${t("import")}</button>
        </div>
      `
      : ""
  }
    <div class="status ${check.state}" role="status">${
    check.state === "ok" ? t("valid") : check.state === "error" ? check.message : ""
  }</div>
    ${
    check.diagnostics?.length
      ? html`<ul class="diagnostics">${
        check.diagnostics.map((d) =>
          html`<li class=${d.severity}><code>${d.key}</code>${d.line ? ` (line ${d.line})` : ""} ${d.message}</li>`
        )
      }</ul>`
      : ""
  }
    ${
    check.state === "ok"
      ? html`<section class="preview"><h3>${t("willChange")}</h3>
      ${
        check.changes?.length
          ? html`<ul>${check.changes.map((c) => html`<li>${c}</li>`)}</ul>`
          : html`<p>${t("noChange")}</p>`
      }
      ${
        (check.files ?? []).map((f) =>
          html`<div class="file"><code>${f.file}</code><${Diff} before=${f.before} after=${f.text} /></div>`
        )
      }
    </section>`
      : ""
  }
  </div>`;
}
