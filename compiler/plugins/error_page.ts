/**
 * `error_page` (Pingap 0.16): the location's own pages for the errors the proxy answers itself (502, 504, 413, 429 …),
 * in place of the server's `error_template`; optionally JSON for clients that ask for it, and optionally taking the
 * upstream's answers with those statuses as errors too (`intercept`).
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, bool, field, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** How a page is written, which is how the message is escaped into it. */
export type ErrorPageKind = "html" | "json" | "text";

/** One page: the statuses it is for, and its template (inline) or the file holding it. */
export interface ErrorPageEntry {
  /** One status (400–599), or a class: 4 for `4xx`, 5 for `5xx`. */
  readonly status?: number;
  readonly klass?: 4 | 5;
  readonly kind: ErrorPageKind;
  /** The page with `{{status}}` and `{{message}}`, when written inline. */
  readonly template?: string;
  /** The file holding the page (read when the config is activated), when written as a path. */
  readonly file?: string;
  /** The entry's place in `pages` as written (for diagnostics about it). */
  readonly index: number;
}

/** Compiled `error_page` config. */
export interface ErrorPagePlan {
  /** Pages for one status first, then those for a class. */
  readonly pages: readonly ErrorPageEntry[];
  /** A client asking for JSON (and not for HTML) gets `{"status":N,"message":"…"}`. */
  readonly json: boolean;
  /** Upstream answers with a status a page is for become proxy errors. */
  readonly intercept: boolean;
}

const PATH_PREFIXES = ["/", "~/", "./", "../"];

/** The kind of an inline page by its first character (`{{` is a placeholder, not an object). */
function inlineKind(page: string): ErrorPageKind {
  const t = page.trimStart();
  if (t.startsWith("<")) return "html";
  if ((t.startsWith("{") && !t.startsWith("{{")) || t.startsWith("[")) return "json";
  return "text";
}

/** The kind of a page file by its extension: `.json`, `.txt`, else HTML. */
function fileKind(path: string): ErrorPageKind {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return ext === "json" ? "json" : ext === "txt" ? "text" : "html";
}

/** The `error_page` plugin. */
export const errorPage = definePlugin({
  category: "error_page",
  runtime: true,
  doc: "Answers the errors the proxy makes on this location (502, 503, 504, 413, 429 …) with the location's own " +
    'pages instead of `basic.error_template`: `pages = ["5xx: /srv/pages/down.html", "404: {\\"error\\":' +
    '\\"{{message}}\\"}"]`. A page for one status beats one for `4xx`/`5xx`; `{{status}}` and `{{message}}` are ' +
    "replaced (the message escaped for HTML or JSON). The message is the error's for a 4xx the proxy raised, else the " +
    "reason phrase. With `json`, a client whose `Accept` names JSON and not `text/html` gets " +
    '`{"status":N,"message":"…"}`. With `intercept`, an upstream answer with a status a page is for is replaced by ' +
    "that page.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    pages: field(array(str()), {
      doc: "Each `status:page`, the status one from 400 to 599, `4xx` or `5xx`. A page starting with `/`, `~/`, `./` " +
        "or `../` is a file (HTML, or by extension `.json`/`.txt`), read when the config is activated; otherwise " +
        "the page itself (`<` HTML, `{`/`[` JSON, else text).",
      default: [],
    }),
    json: field(bool(), { doc: "Answer clients that ask for JSON with a JSON error.", default: false }),
    intercept: field(bool(), {
      doc: "Also replace the upstream's answers whose status has a page (needs `pages`).",
      default: false,
    }),
  },
  compile(config, ctx): ErrorPagePlan {
    const pages: ErrorPageEntry[] = [];
    const seen = new Set<string>();
    config.pages.forEach((item, i) => {
      const at = [...ctx.path, "pages", i];
      const colon = item.indexOf(":");
      const which = colon < 0 ? "" : item.slice(0, colon).trim().toLowerCase();
      const page = colon < 0 ? "" : item.slice(colon + 1).trim();
      const one = /^[0-9]{3}$/.test(which) ? Number(which) : NaN;
      const klass = which === "4xx" ? 4 : which === "5xx" ? 5 : undefined;
      if (page === "" || (klass === undefined && !(one >= 400 && one <= 599))) {
        ctx.diags.push(
          diag(
            "invalid-value",
            at,
            `pages: ${JSON.stringify(item)} should be status:page, the status one from 400 to 599, 4xx or 5xx`,
            { hint: 'e.g. "502: <h1>{{status}}</h1>", "5xx: /srv/pages/down.html" or "4xx: oops"' },
          ),
        );
        return;
      }
      if (seen.has(which)) {
        ctx.diags.push(diag("duplicate-key", at, `pages: there are two for ${which}`, {
          hint: "Keep one page per status or class",
        }));
        return;
      }
      seen.add(which);
      const isFile = PATH_PREFIXES.some((p) => page.startsWith(p));
      const statuses = klass === undefined ? { status: one } : { klass: klass as 4 | 5 };
      pages.push(
        isFile
          ? { ...statuses, kind: fileKind(page), file: page, index: i }
          : { ...statuses, kind: inlineKind(page), template: page, index: i },
      );
    });
    // The page of one status ahead of the page of its class (a stable sort keeps the order within each).
    pages.sort((a, b) => (a.klass === undefined ? 0 : 1) - (b.klass === undefined ? 0 : 1));
    if (config.pages.length === 0 && !config.json) {
      ctx.diags.push(diag("missing-key", ctx.path, "there is nothing to answer with: set pages or json", {
        hint: 'e.g. pages = ["5xx: <h1>{{status}}</h1><p>{{message}}</p>"], or json = true',
      }));
    }
    if (config.intercept && config.pages.length === 0) {
      ctx.diags.push(
        diag(
          "invalid-value",
          [...ctx.path, "intercept"],
          "intercept takes the statuses of pages from the upstream: set pages",
          { hint: "List the statuses to take over in pages, or remove intercept" },
        ),
      );
    }
    return { pages, json: config.json, intercept: config.intercept };
  },
});
