/**
 * Keys shared by several sections.
 *
 * @module
 */
import { STEPS } from "../plugins/define.ts";
import { array, field, type Fields, oneOf, str } from "./types.ts";

/** `remark`: free text, no effect. */
export const remark = field(str(), { doc: "Free text for humans; no effect." });

/** `includes`: storage fragments merged into this item. */
export const includes = field(array(str()), {
  doc:
    "Names of `[storages.<name>]` whose `value` (a TOML fragment) is merged into this item; the fragment's keys win.",
});

/** Keys every `[plugins.<name>]` has, whatever its category. */
export const PLUGIN_COMMON_FIELDS: Fields = {
  category: field(str(), {
    doc: "Plugin category: selects which plugin this is and which other keys it takes (see the sections below).",
    required: true,
  }),
  step: field(oneOf(STEPS), {
    doc: "Step of the request at which the plugin runs; each category allows only some steps and has a default.",
    defaultText: "the category's default step",
  }),
  remark,
};
