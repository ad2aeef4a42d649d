/**
 * `compression`: gzip, brotli and zstd compression of responses.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { bool, field, int, list, oneOf, size } from "../schema/types.ts";
import { regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `compression` config. */
export interface CompressionPlan {
  /** gzip level, 0 (off) to 9. */
  readonly gzipLevel: number;
  /** brotli level, 0 (off) to 11. */
  readonly brLevel: number;
  /** zstd level, 0 (off) to 22. */
  readonly zstdLevel: number;
  /** `downstream`: compress the response sent to the client; `upstream`: compress the upstream body (before the cache). */
  readonly mode: "downstream" | "upstream";
  /** Skip bodies whose Content-Length is below this many bytes (both modes, as Pingap 0.16). */
  readonly minLength: number;
  /** Decode compressed upstream bodies (`true`), keep them (`false`), or leave the default (absent). */
  readonly decompression?: boolean;
  /** Content-type prefixes that are compressed, lower case (`*`: any type); absent: the mode's own rule. */
  readonly types?: readonly string[];
  /** Requests whose path and query (as the client sent them) match are not compressed. */
  readonly skip?: RegExp;
}

/** The `compression` plugin. */
export const compression = definePlugin({
  category: "compression",
  runtime: true,
  doc:
    "Compresses responses with the best coding the client accepts, preferring zstd, then brotli, then gzip; a coding " +
    "with level 0 is never used. In `upstream` mode the upstream body is compressed before it reaches the cache, so " +
    "compressed variants are cached; only text-like content types are compressed there.",
  steps: { allowed: ["early_request"], default: "early_request" },
  fields: {
    gzip_level: field(int({ min: 0, max: 9 }), { doc: "gzip compression level; `0` disables gzip.", default: 0 }),
    br_level: field(int({ min: 0, max: 11 }), { doc: "Brotli compression level; `0` disables brotli.", default: 0 }),
    zstd_level: field(int({ min: 0, max: 22 }), { doc: "zstd compression level; `0` disables zstd.", default: 0 }),
    mode: field(oneOf(["downstream", "upstream"], { aliases: { response: "downstream", "": "downstream" } }), {
      doc: "`upstream` compresses the upstream response body itself (so the cache stores compressed bodies); " +
        '`downstream` (also spelt `response` or `""`, Pingap\'s names) compresses on the way to the client.',
      default: "downstream",
    }),
    min_length: field(size(), {
      doc: "Responses whose Content-Length is smaller than this are not compressed (a body of unknown length is).",
      default: 0,
    }),
    types: field(list("content types"), {
      doc: 'Content-type prefixes to compress, e.g. `"text/, application/json"` (`*`: any type). In the default mode ' +
        "they narrow the built-in rule (text, `application/*`, fonts, SVG); in `upstream` mode they replace it " +
        "(`text/*`, JSON, XML). A response without a Content-Type is never compressed. Unset: the mode's rule.",
    }),
    skip: field(regex(), {
      doc: "Regex on the request's path and query as the client sent them; matching requests are not compressed.",
    }),
    decompression: field(bool(), {
      doc:
        "Decompress compressed upstream responses before sending them on (useful with `sub_filter` and similar). Unset keeps the default.",
    }),
  },
  compile(config, ctx): CompressionPlan {
    if (config.gzip_level + config.br_level + config.zstd_level === 0 && config.decompression !== true) {
      ctx.diags.push(diag("plugin-inert", ctx.path, "Every compression level is 0, so nothing is compressed", {
        severity: "warning",
        hint: "Set gzip_level, br_level or zstd_level, e.g. gzip_level = 6",
      }));
    }
    let types: string[] | undefined;
    if (config.types !== undefined) {
      types = config.types.map((t) => t.toLowerCase());
      if (types.length === 0) {
        ctx.diags.push(
          diag("empty-list", [...ctx.path, "types"], "Types needs at least one content type", {
            hint: 'List prefixes such as types = "text/, application/json", or remove the key for the default rule',
          }),
        );
      }
    }
    return {
      gzipLevel: config.gzip_level,
      brLevel: config.br_level,
      zstdLevel: config.zstd_level,
      mode: config.mode,
      minLength: config.min_length,
      ...(config.decompression !== undefined ? { decompression: config.decompression } : {}),
      ...(types !== undefined ? { types } : {}),
      ...(config.skip !== undefined ? { skip: config.skip } : {}),
    };
  },
});
