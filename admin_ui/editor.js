/**
 * The form of one item, generated from the schema. Every change is checked by the proxy's compiler (a dry run)
 * while typing: each diagnostic shows at the field its key path names, Save stays refused while there is an error,
 * and the diff of what will change (the config file and the running plan) shows before saving.
 */
import { html, useEffect, useMemo, useRef, useState } from "./lib.js";
import { call, itemRoute } from "./api.js";
import { t } from "./i18n.js";
import { Field } from "./field.js";
import { Diff } from "./diff.js";
import { ReadonlyNote } from "./readonly_note.js";
import { fieldKind, fromText, itemProperties, pluginCategories, toText, Unreadable } from "./schema.js";

function initialTexts(schema, section, item) {
  const props = itemProperties(schema, section, item);
  const texts = {};
  for (const [k, v] of Object.entries(item)) texts[k] = toText(props[k] ? fieldKind(props[k]) : "json", v);
  return texts;
}

function buildItem(props, texts) {
  const item = {};
  const local = {};
  for (const [k, text] of Object.entries(texts)) {
    const v = fromText(props[k] ? fieldKind(props[k]) : "json", text);
    if (v instanceof Unreadable) local[k] = [{ message: v.message }];
    else if (v !== undefined) item[k] = v;
  }
  return { item, local };
}

/** Where the diagnostics go: to the field whose key they name, or to the list above the form. */
function place(diagnostics, prefix) {
  const at = {};
  const other = [];
  for (const d of diagnostics) {
    const inItem = d.path.length > prefix.length && prefix.every((p, i) => d.path[i] === p);
    if (inItem) (at[d.path[prefix.length]] ??= []).push(d);
    else other.push(d);
  }
  return { at, other };
}

/** The editor of `section`'s item `name` (`""`: a new one). */
export function Editor({ schema, config, readonly, section, name, refresh, notify, go }) {
  const isNew = section !== "basic" && name === "";
  const stored = section === "basic" ? config.basic ?? {} : config[section]?.[name];
  const start = stored ?? (section === "plugins" ? { category: pluginCategories(schema)[0] } : {});
  const [itemName, setItemName] = useState(name);
  const [texts, setTexts] = useState(() => initialTexts(schema, section, start));
  const [check, setCheck] = useState({ state: "idle", diagnostics: [] });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const seq = useRef(0);

  const props = useMemo(() => {
    const p = { ...itemProperties(schema, section, { category: texts.category }) };
    if (section === "plugins") p.category = { ...p.category, enum: pluginCategories(schema) };
    return p;
  }, [schema, section, texts.category]);
  const { item, local } = buildItem(props, texts);
  const body = JSON.stringify(item);

  useEffect(() => {
    // A read-only login is not asked to check: the dry run is a write the proxy refuses it.
    if (readonly || (!isNew && !stored)) return;
    const n = ++seq.current;
    if (section !== "basic" && itemName.trim() === "") {
      setCheck({ state: "error", diagnostics: [], message: `${t("name")}: ?` });
      return;
    }
    setCheck((c) => ({ ...c, state: "checking" }));
    const timer = setTimeout(async () => {
      const { status, data } = await call("POST", `${itemRoute(section, itemName)}?dry_run=1`, item);
      if (n !== seq.current) return;
      if (status === 200) setCheck({ state: "ok", ...data });
      else setCheck({ state: "error", diagnostics: data?.diagnostics ?? [], message: data?.message ?? String(data) });
    }, 300);
    return () => clearTimeout(timer);
  }, [body, itemName]);

  if (!isNew && !stored) return html`<p>${t("notFound")}: ${section}.${name}</p>`;

  const prefix = section === "basic" ? ["basic"] : [section, itemName];
  const { at, other } = place(check.diagnostics ?? [], prefix);
  const errors = (check.diagnostics ?? []).filter((d) => d.severity === "error");
  const blocked = check.state !== "ok" || Object.keys(local).length > 0;

  async function save(e) {
    e.preventDefault();
    if (blocked || readonly) return;
    const { status, data } = await call("POST", itemRoute(section, itemName), item);
    if (status === 204) {
      notify(t("saved"));
      await refresh();
      if (isNew) go(`#/edit/${section}/${encodeURIComponent(itemName)}`);
    } else {
      setCheck({ state: "error", diagnostics: data?.diagnostics ?? [], message: data?.message ?? String(data) });
    }
  }

  async function remove() {
    if (!confirmDelete) return setConfirmDelete(true);
    const { status, data } = await call("DELETE", itemRoute(section, name));
    if (status === 204) {
      notify(t("deleted"));
      await refresh();
      go(`#/list/${section}`);
    } else {
      setConfirmDelete(false);
      setCheck({ state: "error", diagnostics: data?.diagnostics ?? [], message: data?.message ?? String(data) });
    }
  }

  const keys = [...new Set([...Object.keys(props), ...Object.keys(texts)])];
  const onInput = (k, v) => setTexts((old) => ({ ...old, [k]: v }));
  const title = section === "basic" ? t(section) : `${t(section)} / ${isNew ? t("add") : name}`;
  const nameField = isNew
    ? html`<div class="field" data-key="(name)"><label for="item-name">${t("name")}</label>
      <input id="item-name" value=${itemName} onInput=${(e) => setItemName(e.currentTarget.value)} /></div>`
    : "";
  const status = check.state === "checking"
    ? t("checking")
    : check.state === "ok"
    ? t("valid")
    : check.state === "error"
    ? html`<strong>${t("errors")}</strong> ${errors.length ? "" : check.message}`
    : "";
  const otherList = other.length
    ? html`<div class="other-errors"><strong>${t("otherErrors")}</strong><ul>${
      other.map((d) => html`<li class=${d.severity}><code>${d.key}</code> ${d.message}</li>`)
    }</ul></div>`
    : "";
  const preview = check.state === "ok"
    ? html`<section class="preview card"><h3>${t("willChange")}</h3>
      ${
      check.changes?.length
        ? html`<ul>${check.changes.map((c) => html`<li>${c}</li>`)}</ul>`
        : html`<p>${t("noChange")}</p>`
    }
      ${
      (check.files ?? []).map((f) =>
        html`<div class="file"><code>${f.file}</code><${Diff} before=${f.before} after=${f.text} /></div>`
      )
    }</section>`
    : "";
  const deleteButton = !readonly && !isNew && section !== "basic"
    ? html`<button type="button" class="danger" onClick=${remove}>${
      confirmDelete ? t("reallyDelete") : t("delete")
    }</button>`
    : "";
  const historyLink = isNew
    ? ""
    : html`<a class="button" href=${`#/history/${section}/${encodeURIComponent(name)}`}>${t("history")}</a>`;
  const fields = keys.map((k) =>
    html`
      <${Field} key=${k} name=${k} prop=${props[k] ?? { description: "" }} text=${texts[k] ?? ""}
        onInput=${onInput} errors=${[...(at[k] ?? []), ...(local[k] ?? [])]} />
    `
  );
  // Save, the verdict and the diff sit above the fields: what will change is in view before saving.
  return html`<form class="editor" onSubmit=${save}>
    <h2>${title}</h2>
    <div class="actions">
      ${readonly ? "" : html`<button type="submit" class="primary" id="save" disabled=${blocked}>${t("save")}</button>`}
      ${deleteButton} ${historyLink}
      <span class="status ${check.state}" role="status">${status}</span>
    </div>
    ${readonly ? html`<${ReadonlyNote} />` : ""} ${otherList} ${preview}
    <fieldset class="plain" disabled=${readonly}>${nameField}<div class="fields">${fields}</div></fieldset>
  </form>`;
}
