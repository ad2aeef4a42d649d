/**
 * `[storages.<name>]`: named values (config fragments or secrets).
 *
 * @module
 */
import { remark } from "./common.ts";
import { field, int, str, table } from "./types.ts";

/** The `[storages.<name>]` table. */
export const storageSchema = table({
  title: "[storages.<name>]",
  doc: "A named value: a TOML fragment that items pull in with `includes`, or a secret.",
  fields: {
    category: field(str(), { doc: "What the value is: `config` or `secret`.", required: true }),
    value: field(str(), { doc: "The value (a TOML fragment for `config`).", required: true }),
    secret: field(str(), {
      doc: "AES key: when set, `value` is AES-256-GCM-SIV encrypted and base64 encoded (Pingap's format; the admin's " +
        "`POST /api/aes` makes it), and is decrypted where an item `includes` the storage.",
    }),
    created_at: field(int({ min: 0 }), {
      unapplied: "ACME state here is kept in files beside the config, not in storages",
      doc: "Unix seconds when created (used to expire ACME tokens).",
    }),
    remark,
  },
});
