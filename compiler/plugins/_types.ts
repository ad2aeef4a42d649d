/**
 * Value types shared by several plugins: Rust regexes, header names, URLs,
 * IP lists, and the allow/deny `type` of the restriction plugins.
 *
 * @module
 */
import { field, oneOf, parsed, str, type Type } from "../schema/types.ts";
import { headerName } from "../values/header.ts";
import { type IpNet, ipNet } from "../values/ip.ts";
import { rustRegex } from "../values/rust_regex.ts";

/** A Rust-syntax regex, compiled to a JS `RegExp`. */
export function regex(): Type<RegExp> {
  return parsed("regex", (s) => rustRegex(s));
}

/** A header name, lower-cased. */
export function headerNameType(): Type<string> {
  return parsed("header name", headerName);
}

/** A header name that keeps its case (also used as a cookie name). */
export function tokenName(): Type<string> {
  return parsed("header name", (s) => {
    const r = headerName(s);
    return r.ok ? { ok: true, value: s } : r;
  });
}

/** An IP address or CIDR network. */
export function ipNetType(): Type<IpNet> {
  return parsed("IP or CIDR", ipNet);
}

/** An absolute `http` or `https` URL, kept as written. */
export function httpUrl(): Type<string> {
  return parsed("URL", (s) => {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      return {
        ok: false,
        message: `URL ${JSON.stringify(s)} is invalid`,
        hint: 'Write an absolute URL, e.g. "http://127.0.0.1:3000/auth"',
      };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return {
        ok: false,
        message: `URL ${JSON.stringify(s)} has unsupported scheme "${url.protocol.slice(0, -1)}"`,
        hint: "Use http or https",
      };
    }
    return { ok: true, value: s };
  });
}

/** True when `value` is a valid header value (visible ASCII, space, tab, or obs-text). */
export function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/** The `type` key of ip/ua/referer restriction: is the list a whitelist or a blacklist. */
export const restrictionType = field(oneOf(["allow", "deny"]), {
  doc:
    "`allow`: only requests that match the list pass (whitelist). `deny`: requests that match the list are refused (blacklist).",
  default: "allow",
});

/** The `message` key of ip/ua/referer restriction. */
export const forbiddenMessage = field(str(), {
  doc: "Body of the `403` response sent to a refused request.",
  default: "Request is forbidden",
});
