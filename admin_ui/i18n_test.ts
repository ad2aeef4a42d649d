import assert from "node:assert/strict";
import { DICTS, t } from "./i18n.js";

Deno.test("i18n: English and Chinese have the same keys, each a non-empty text; English by default", () => {
  assert.deepEqual(Object.keys(DICTS.zh).sort(), Object.keys(DICTS.en).sort());
  for (const dict of Object.values(DICTS)) {
    for (const [k, v] of Object.entries(dict)) assert.ok(typeof v === "string" && v.length > 0, k);
  }
  assert.equal(t("save"), "Save");
});
