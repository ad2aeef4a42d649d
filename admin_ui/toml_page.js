/** The whole config as TOML (secrets masked), editable and imported after the compiler's check. */
import { html, useEffect, useState } from "./lib.js";
import { call } from "./api.js";
import { t } from "./i18n.js";
import { Diff } from "./diff.js";

/** The TOML view and import page. */
export function TomlPage({ refresh, notify }) {
  const [text, setText] = useState(null);
  const [check, setCheck] = useState({ state: "idle" });
  useEffect(() => {
    call("GET", "/configs/full").then(({ data }) => setText(data.original));
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
    <textarea id="toml" rows="24" spellcheck="false" value=${text}
      onInput=${(e) => (setText(e.currentTarget.value), setCheck({ state: "idle" }))} />
    <div class="actions">
      <button type="button" id="toml-check" onClick=${() => run(true)}>${t("check")}</button>
      <button type="button" id="toml-import" class="primary" disabled=${check.state !== "ok"} onClick=${() =>
    run(false)}>${t("import")}</button>
    </div>
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
