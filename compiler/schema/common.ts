/**
 * Keys shared by several sections.
 *
 * @module
 */
import { array, field, str } from "./types.ts";

/** `remark`: free text, no effect. */
export const remark = field(str(), { doc: "Free text for humans; no effect." });

/** `includes`: storage fragments merged into this item. */
export const includes = field(array(str()), {
  doc:
    "Names of `[storages.<name>]` whose `value` (a TOML fragment) is merged into this item; the fragment's keys win.",
});
