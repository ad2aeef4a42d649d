/**
 * `request_headers` (Pingap 0.16): edits the headers of a request before it goes on, the counterpart of
 * `response_headers`.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, str } from "../schema/types.ts";
import { headerName } from "../values/header.ts";
import { compileTemplate } from "../values/template.ts";
import { definePlugin } from "./define.ts";
import type { HeaderWrite } from "./response_headers.ts";

/** Compiled `request_headers` config, applied in this order: add, remove, set, set if absent, rename. */
export interface RequestHeadersPlan {
  /** Headers appended. */
  readonly add: readonly HeaderWrite[];
  /** Lower-cased names removed. */
  readonly remove: readonly string[];
  /** Headers overwritten. */
  readonly set: readonly HeaderWrite[];
  /** Headers set only when absent. */
  readonly setIfAbsent: readonly HeaderWrite[];
  /** Pairs of lower-cased `[old, new]` names; every value moves. */
  readonly rename: readonly (readonly [string, string])[];
}

/** Why a header is not this plugin's to change (Pingap's wording), if it is not. */
function notToChange(name: string): string | undefined {
  if (name === "content-length" || name === "transfer-encoding") return "is not for this plugin to change";
  if (name === "host") return "is set with proxy_set_headers of the location";
  return undefined;
}

const KEYS = ["add_headers", "set_headers", "set_headers_not_exists", "remove_headers", "rename_headers"] as const;

/** The `request_headers` plugin. */
export const requestHeaders = definePlugin({
  category: "request_headers",
  runtime: true,
  doc: "Edits the headers of the request before it is proxied: appends (`add_headers`), deletes " +
    "(`remove_headers`), overwrites (`set_headers`), sets headers only when missing (`set_headers_not_exists`) and " +
    "renames (`rename_headers`, every value moves), in that order. Values may use variables such as " +
    "`$http_x_client`, read from the request as it came. `Host`, `Content-Length` and `Transfer-Encoding` are not " +
    "this plugin's to change. The location's `proxy_set_headers`/`proxy_add_headers` apply later and win.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  fields: {
    add_headers: field(array(str()), {
      doc: 'Headers appended to the request, each `"Name: value"`; existing values are kept.',
      default: [],
    }),
    remove_headers: field(array(str()), { doc: "Names of headers removed from the request.", default: [] }),
    set_headers: field(array(str()), {
      doc: 'Headers set on the request, each `"Name: value"`, replacing existing values.',
      default: [],
    }),
    set_headers_not_exists: field(array(str()), {
      doc: 'Headers set only when the request does not have them, each `"Name: value"`.',
      default: [],
    }),
    rename_headers: field(array(str()), {
      doc: 'Headers renamed, each `"Old-Name: New-Name"`; every value moves to the new name.',
      default: [],
    }),
  },
  compile(config, ctx): RequestHeadersPlan {
    const nameOf = (key: string, i: number, raw: string): string | undefined => {
      const at = [...ctx.path, key, i];
      const parsed = headerName(raw.trim());
      if (!parsed.ok) {
        ctx.diags.push(diag("invalid-value", at, `${key}: ${JSON.stringify(raw)} is not a header name`, {
          hint: "Use letters, digits and - only, e.g. X-Request-Id",
        }));
        return undefined;
      }
      const reason = notToChange(parsed.value);
      if (reason !== undefined) {
        ctx.diags.push(diag("invalid-value", at, `${key}: ${parsed.value} ${reason}`, {
          hint: parsed.value === "host"
            ? 'Set it on the location: proxy_set_headers = ["Host: example.com"]'
            : "The proxy frames the request from its body; remove this entry",
        }));
        return undefined;
      }
      return parsed.value;
    };
    const writes = (key: typeof KEYS[number]): HeaderWrite[] => {
      const out: HeaderWrite[] = [];
      config[key].forEach((item, i) => {
        const colon = item.indexOf(":");
        if (colon < 0) {
          ctx.diags.push(
            diag("invalid-value", [...ctx.path, key, i], `${key}: ${JSON.stringify(item)} should be name:value`, {
              hint: 'Write "X-Service: api"',
            }),
          );
          return;
        }
        const name = nameOf(key, i, item.slice(0, colon));
        const value = item.slice(colon + 1).trim();
        if (/[\r\n\0]/.test(value)) {
          ctx.diags.push(diag("invalid-value", [...ctx.path, key, i], `${key}: the value has a control character`, {
            hint: "A header value is one line of text",
          }));
          return;
        }
        if (name !== undefined) out.push({ name, value: compileTemplate(value) });
      });
      return out;
    };
    const remove: string[] = [];
    config.remove_headers.forEach((item, i) => {
      const name = nameOf("remove_headers", i, item);
      if (name !== undefined) remove.push(name);
    });
    const rename: (readonly [string, string])[] = [];
    config.rename_headers.forEach((item, i) => {
      const colon = item.indexOf(":");
      if (colon < 0) {
        ctx.diags.push(
          diag(
            "invalid-value",
            [...ctx.path, "rename_headers", i],
            `rename_headers: ${JSON.stringify(item)} should be old-name:new-name`,
            { hint: 'Write "X-Old: X-New"' },
          ),
        );
        return;
      }
      const from = nameOf("rename_headers", i, item.slice(0, colon));
      const to = nameOf("rename_headers", i, item.slice(colon + 1));
      if (from !== undefined && to !== undefined) rename.push([from, to]);
    });
    return {
      add: writes("add_headers"),
      remove,
      set: writes("set_headers"),
      setIfAbsent: writes("set_headers_not_exists"),
      rename,
    };
  },
});
