/**
 * `error_page`: the location's pages for the errors the proxy answers itself (see `errorPage` in contract.ts and
 * `locationError` in runtime/proxy/pipeline.ts). Page files are read once, when the instance is created (start or
 * reload); a file that cannot be read fails that activation, as an invalid plugin does in Pingap.
 *
 * @module
 */
import { type ErrorPageKind, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { responseWith } from "../http/response_build.ts";
import { runtimePlugin } from "./contract.ts";

const CONTENT_TYPES: Record<ErrorPageKind, string> = {
  html: "text/html; charset=utf-8",
  json: "application/json; charset=utf-8",
  text: "text/plain; charset=utf-8",
};

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` as it may stand in a page of `kind`: markup escaped in HTML, the inside of a JSON string in JSON. */
export function escapeFor(kind: ErrorPageKind, text: string): string {
  if (kind === "html") return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
  if (kind === "json") return JSON.stringify(text).slice(1, -1);
  return text;
}

/** Whether `Accept` asks for JSON and not for a page: JSON or `+json` named, and `text/html` not. */
export function asksForJson(accept: string | null): boolean {
  if (accept === null) return false;
  let json = false;
  for (const item of accept.split(",")) {
    const semi = item.indexOf(";");
    const media = (semi < 0 ? item : item.slice(0, semi)).trim().toLowerCase();
    if (media === "text/html") return false;
    if (media === "application/json" || media.endsWith("+json")) json = true;
  }
  return json;
}

/** Reads a page file (`~/` from the home directory, the rest as the process sees it); throws when it cannot. */
export function readPageFile(path: string): string {
  return Deno.readTextFileSync(path.startsWith("~/") ? `${Deno.env.get("HOME") ?? ""}${path.slice(1)}` : path);
}

/** The runtime half of `error_page`. */
export const errorPage = runtimePlugin(PLUGIN_DEFINITIONS.errorPage, (c) => {
  const pages = c.pages.map((p) => ({
    status: p.status,
    klass: p.klass,
    kind: p.kind,
    template: p.template ?? readPageFile(p.file!),
  }));
  const pageFor = (status: number) => {
    const klass = Math.floor(status / 100);
    return pages.find((p) => p.status === status || p.klass === klass);
  };
  return {
    errorPage(ctx, status, message, upstream) {
      const page = pageFor(status);
      if (upstream && (!c.intercept || page === undefined)) return undefined;
      let body: string;
      let kind: ErrorPageKind;
      if (c.json && asksForJson(ctx.header("accept"))) {
        kind = "json";
        body = `{"status":${status},"message":"${escapeFor("json", message)}"}`;
      } else if (page !== undefined) {
        kind = page.kind;
        const shown = escapeFor(kind, message);
        // A function, so that `$&` and the like in a message stay as they are.
        body = page.template.replaceAll("{{status}}", String(status)).replaceAll("{{message}}", () => shown);
      } else return undefined;
      return responseWith(body, { status }, {
        "content-type": CONTENT_TYPES[kind],
        "cache-control": "private, no-store",
      });
    },
  };
});
