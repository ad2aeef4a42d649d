/**
 * `accept_encoding`: normalises the client's `Accept-Encoding` header.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { bool, field, list } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `accept_encoding` config. */
export interface AcceptEncodingPlan {
  /** Lower-cased codings to keep, in preference order. */
  readonly encodings: readonly string[];
  /** Keep only the first coding the client accepts. */
  readonly onlyOneEncoding: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** The `accept_encoding` plugin. */
export const acceptEncoding = definePlugin({
  category: "accept_encoding",
  runtime: true,
  doc: "Rewrites `Accept-Encoding` to the listed codings that the client accepts, in the listed order (a coding with " +
    "`q=0` counts as not accepted), so that fewer response variants end up in the cache. When none is left the header " +
    "is removed; a request without the header is left alone.",
  steps: { allowed: ["early_request"], default: "early_request" },
  fields: {
    encodings: field(list("encodings"), {
      doc:
        'Codings to keep, in preference order: a comma-separated string (`"zstd, br, gzip"`) or an array (`["zstd", "br", "gzip"]`).',
      default: "",
    }),
    only_one_encoding: field(bool(), {
      doc: "Keep only the first listed coding that the client accepts.",
      default: false,
    }),
  },
  compile(config, ctx): AcceptEncodingPlan {
    const encodings: string[] = [];
    for (const item of config.encodings) {
      const coding = item.toLowerCase();
      if (!TOKEN.test(coding)) {
        ctx.diags.push(
          diag(
            "invalid-value",
            [...ctx.path, "encodings"],
            `Encoding ${JSON.stringify(item)} is not a content coding`,
            {
              hint: "Use names such as zstd, br, gzip",
            },
          ),
        );
      } else if (!encodings.includes(coding)) {
        encodings.push(coding);
      }
    }
    if (config.encodings.length === 0) {
      ctx.diags.push(
        diag(
          "empty-list",
          [...ctx.path, "encodings"],
          "Encodings list is empty, so Accept-Encoding is removed from every request",
          {
            severity: "warning",
            hint: 'Set encodings = "zstd, br, gzip"',
          },
        ),
      );
    }
    return { encodings, onlyOneEncoding: config.only_one_encoding };
  },
});
