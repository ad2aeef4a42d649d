/**
 * Header lines (`Name:value`) and header names, validated as HTTP tokens.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks a header name (an RFC 9110 token). */
export function headerName(name: string): Parsed<string> {
  if (!TOKEN.test(name)) {
    return {
      ok: false,
      message: `Header name ${JSON.stringify(name)} is invalid`,
      hint: "Use letters, digits and - only, e.g. X-Request-Id",
    };
  }
  return { ok: true, value: name.toLowerCase() };
}

/**
 * Refuses a header a config would write when it is the message's framing
 * (`Content-Length`, `Transfer-Encoding`): the proxy frames every message
 * from its body, so a configured one either went unsent or, next to the
 * proxy's own, made a message a client or upstream cannot read (two
 * lengths, a length and chunking). `name` is lower-cased.
 */
export function writableHeaderName(name: string): Parsed<string> {
  if (name === "content-length" || name === "transfer-encoding") {
    return {
      ok: false,
      message: `Header "${name}" frames the message, which the proxy does from the body`,
      hint: "Remove it: the proxy writes Content-Length or Transfer-Encoding itself",
    };
  }
  return { ok: true, value: name };
}

/** A parsed header line: lower-cased name and raw value. */
export type HeaderLine = readonly [name: string, value: string];

/**
 * Parses `Name:value` (spaces around the value trimmed), a header the
 * config writes: a framing header is refused ({@linkcode writableHeaderName}).
 *
 * @example Usage
 * ```ts
 * import { headerLine } from "./header.ts";
 * const r = headerLine("Content-Type: application/json");
 * if (!r.ok || r.value[0] !== "content-type" || r.value[1] !== "application/json") throw new Error();
 * ```
 */
export function headerLine(line: string): Parsed<HeaderLine> {
  const colon = line.indexOf(":");
  if (colon < 0) {
    return {
      ok: false,
      message: `Header ${JSON.stringify(line)} has no ":"`,
      hint: `Write "Name:value", e.g. "X-Service:api"`,
    };
  }
  const parsedName = headerName(line.slice(0, colon).trim());
  if (!parsedName.ok) return parsedName;
  const name = writableHeaderName(parsedName.value);
  if (!name.ok) return name;
  const value = line.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) {
    return { ok: false, message: `Header value of ${JSON.stringify(line)} contains a control character` };
  }
  // A header value is bytes: a character past U+00FF (an emoji, or the U+FFFD a file's invalid UTF-8 was read as)
  // cannot be set, and every request would fail where the header is applied.
  const wide = /[\u0100-\u{10FFFF}]/u.exec(value);
  if (wide) {
    const code = wide[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return {
      ok: false,
      message: `Header value of ${JSON.stringify(line)} contains U+${code}, which a header cannot carry`,
      hint: "Header values are bytes: use ASCII (percent-encode other text)",
    };
  }
  return { ok: true, value: [name.value, value] };
}
