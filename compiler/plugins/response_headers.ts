/**
 * `response_headers`: adds, sets, renames and removes response headers.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, oneOf, type Parsed, parsed } from "../schema/types.ts";
import { type HeaderLine, headerLine, headerName, writableHeaderName } from "../values/header.ts";
import { compileTemplate, type Template } from "../values/template.ts";
import { headerNameType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** A header to write: lower-cased name and a value template (variables such as `$host` allowed). */
export interface HeaderWrite {
  /** Lower-cased header name. */
  readonly name: string;
  /** Value template. */
  readonly value: Template;
}

/** Compiled `response_headers` config, applied in this order: add, set, remove, rename, set if absent. */
export interface ResponseHeadersPlan {
  /** Headers appended. */
  readonly add: readonly HeaderWrite[];
  /** Headers overwritten. */
  readonly set: readonly HeaderWrite[];
  /** Lower-cased names. */
  readonly remove: readonly string[];
  /** Pairs of lower-cased `[old, new]` names. */
  readonly rename: readonly (readonly [string, string])[];
  /** Headers set only when absent. */
  readonly setIfAbsent: readonly HeaderWrite[];
  /** `response`: the response sent to the client; `upstream`: the upstream response, before it is cached. */
  readonly mode: "response" | "upstream";
}

function renamePair(text: string): Parsed<readonly [string, string]> {
  const colon = text.indexOf(":");
  if (colon < 0) {
    return {
      ok: false,
      message: `Rename ${JSON.stringify(text)} has no ":"`,
      hint: 'Write "Old-Name:New-Name"',
    };
  }
  const from = headerName(text.slice(0, colon).trim());
  if (!from.ok) return from;
  const toName = headerName(text.slice(colon + 1).trim());
  if (!toName.ok) return toName;
  const to = writableHeaderName(toName.value);
  if (!to.ok) return to;
  return { ok: true, value: [from.value, to.value] };
}

function writes(lines: readonly HeaderLine[]): HeaderWrite[] {
  return lines.map(([name, value]) => ({ name, value: compileTemplate(value) }));
}

/** The `response_headers` plugin. */
export const responseHeaders = definePlugin({
  category: "response_headers",
  runtime: true,
  doc: "Edits the headers of the response: appends (`add_headers`), overwrites (`set_headers`), deletes " +
    "(`remove_headers`), renames (`rename_headers`) and sets headers only when missing (`set_headers_not_exists`), in " +
    "that order. Values may use variables such as `$host` or `$http_origin`.",
  steps: { allowed: ["response"], default: "response" },
  fields: {
    add_headers: field(array(parsed("header line", headerLine)), {
      doc: 'Headers appended to the response, each `"Name:value"`; existing values are kept.',
      default: [],
    }),
    set_headers: field(array(parsed("header line", headerLine)), {
      doc: 'Headers set on the response, each `"Name:value"`, replacing existing values.',
      default: [],
    }),
    remove_headers: field(array(headerNameType()), { doc: "Names of headers removed from the response.", default: [] }),
    rename_headers: field(array(parsed("header rename", renamePair)), {
      doc: 'Headers renamed, each `"Old-Name:New-Name"`; values move to the new name (appended).',
      default: [],
    }),
    set_headers_not_exists: field(array(parsed("header line", headerLine)), {
      doc: 'Headers set only when the response does not already have them, each `"Name:value"`.',
      default: [],
    }),
    mode: field(oneOf(["response", "upstream"]), {
      doc:
        "`response` edits the response sent to the client; `upstream` edits the upstream response before it is cached.",
      default: "response",
    }),
  },
  compile(config, ctx): ResponseHeadersPlan {
    const plan: ResponseHeadersPlan = {
      add: writes(config.add_headers),
      set: writes(config.set_headers),
      remove: config.remove_headers,
      rename: config.rename_headers,
      setIfAbsent: writes(config.set_headers_not_exists),
      mode: config.mode,
    };
    const total = plan.add.length + plan.set.length + plan.remove.length + plan.rename.length + plan.setIfAbsent.length;
    if (total === 0) {
      ctx.diags.push(diag("plugin-inert", ctx.path, "Response headers plugin changes no header", {
        severity: "warning",
        hint: "Add add_headers, set_headers, remove_headers, rename_headers or set_headers_not_exists",
      }));
    }
    return plan;
  },
});
