/** One form field made from a key's schema: its input, its doc as help, its default as placeholder, its errors. */
import { html } from "./lib.js";
import { fieldKind, toText } from "./schema.js";
import { t } from "./i18n.js";

function placeholder(kind, prop) {
  if (prop.default !== undefined) return toText(kind, prop.default);
  if (prop.examples?.length) return `${t("example")} ${prop.examples[0]}`;
  return "";
}

/** A key's doc as text, its `code` spans set as code. */
export function Doc({ text }) {
  return text.split("`").map((part, i) => (i % 2 ? html`<code>${part}</code>` : part));
}

/** A field: `name` the key, `prop` its schema, `text` its content, `errors` the diagnostics placed at it. */
export function Field({ name, prop, text, onInput, errors }) {
  const kind = fieldKind(prop);
  const id = `f-${name}`;
  const hint = placeholder(kind, prop);
  const set = (e) => onInput(name, e.currentTarget.value);
  let input;
  if (kind === "enum" || kind === "boolean") {
    const options = kind === "enum" ? prop.enum : ["true", "false"];
    input = html`<select id=${id} name=${name} onChange=${set}>
      <option value="" selected=${text === ""}>${t("unset")}${hint ? `: ${hint}` : ""}</option>
      ${options.map((o) => html`<option value=${o} selected=${text === String(o)}>${String(o)}</option>`)}
    </select>`;
  } else if (kind === "lines" || kind === "json" || text.includes("\n")) {
    const rows = Math.min(12, Math.max(2, text.split("\n").length));
    input = html`
      <textarea id=${id} name=${name} rows=${rows} placeholder=${hint} onInput=${set}
        value=${text} />
    `;
  } else {
    input = html`
      <input id=${id} name=${name} placeholder=${hint} onInput=${set} value=${text}
        autocomplete="off" />
    `;
  }
  return html`<div class=${`field${errors.length ? " invalid" : ""}`} data-key=${name}>
    <label for=${id}>${name}${
    kind === "lines"
      ? html`
        <small>(${t("onePerLine")})</small>
      `
      : ""
  }</label>
    ${input}
    ${
    errors.map((e) =>
      html`<div class="error" role="alert">${e.message}${e.hint ? html`<div class="hint">${e.hint}</div>` : ""}</div>`
    )
  }
    ${
    prop.description
      ? html`
        <div class="help">
          <${Doc} text=${prop.description} />
        </div>
      `
      : ""
  }
  </div>`;
}
