/** The note shown where a read-only login would find Save, Delete, Restore, Import or Reload. */
import { html } from "./lib.js";
import { t } from "./i18n.js";

/** Says that this login may only read. */
export function ReadonlyNote() {
  return html`<p class="readonly-note" role="note">${t("readonlyNote")}</p>`;
}
