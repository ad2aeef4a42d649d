/**
 * `uri_block` (Pingap 0.16): turns away requests by what they ask for — a path or a query matching a pattern, or a
 * method not on the allow-list — before they reach the upstream.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, int, str } from "../schema/types.ts";
import { regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `uri_block` config. */
export interface UriBlockPlan {
  /** Patterns for the path, tested on the path as sent and as normalised. */
  readonly paths: readonly RegExp[];
  /** Patterns for the query, tested on the query as sent and as decoded (`+` a space). */
  readonly queries: readonly RegExp[];
  /** Upper-case methods let through; any when empty. */
  readonly methods: readonly string[];
  /** The answer's status, 400–599. */
  readonly status: number;
  /** The answer's plain-text body. */
  readonly message: string;
}

/** Pingap's default body. */
export const URI_BLOCK_MESSAGE = "Request is blocked";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The `uri_block` plugin. */
export const uriBlock = definePlugin({
  category: "uri_block",
  runtime: true,
  doc: "Answers `403 Request is blocked` (text/plain, `no-store`) to a request whose method is not in `methods` " +
    "(when set), whose path matches one of `paths`, or whose query matches one of `queries`. The path is tested as " +
    "sent and as routing reads it (decoded, dot segments removed, `//` and `\\` as `/`, `;params` dropped), the query " +
    "as sent and decoded, so `/%2eenv` and `/public/../.env` are both `/.env`.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    paths: field(array(regex()), { doc: "Regexes for the request path (Rust syntax).", default: [] }),
    queries: field(array(regex()), { doc: "Regexes for the query string (Rust syntax).", default: [] }),
    methods: field(array(str()), {
      doc: "The methods let through, case-insensitive; any when empty.",
      default: [],
    }),
    status: field(int(), { doc: "The answer's status, 400–599.", default: 403 }),
    message: field(str(), { doc: "The answer's body; `Request is blocked` when empty.", default: "" }),
  },
  compile(config, ctx): UriBlockPlan {
    const methods: string[] = [];
    config.methods.forEach((raw, i) => {
      const name = raw.trim().toUpperCase();
      if (!TOKEN.test(name)) {
        ctx.diags.push(
          diag("invalid-value", [...ctx.path, "methods", i], `methods: ${JSON.stringify(raw)} is not a method`, {
            hint: 'Name HTTP methods, e.g. methods = ["GET", "HEAD", "POST"]',
          }),
        );
      } else if (!methods.includes(name)) methods.push(name);
    });
    if (config.paths.length === 0 && config.queries.length === 0 && config.methods.length === 0) {
      ctx.diags.push(diag("missing-key", ctx.path, "one of paths, queries or methods is required", {
        hint: String.raw`e.g. paths = ['\.env$', '^/\.git/']`,
      }));
    }
    if (config.status < 400 || config.status > 599) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "status"], "status must be between 400 and 599", {
        hint: "A block with a success or redirect status would tell the client its request went through; e.g. 403",
      }));
    }
    return {
      paths: config.paths,
      queries: config.queries,
      methods,
      status: config.status,
      message: config.message === "" ? URI_BLOCK_MESSAGE : config.message,
    };
  },
});
