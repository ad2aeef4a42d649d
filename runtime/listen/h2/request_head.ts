/**
 * A request head of HTTP/2 as a decoded field list, checked as RFC 9113 §8 asks: the pseudo-header fields
 * (`:method`, `:scheme`, `:path`, `:authority`, each once, before every other field, no other), lower-case names of
 * token characters, no connection-specific field (`connection`, `keep-alive`, `proxy-connection`,
 * `transfer-encoding`, `upgrade`; `te` only `trailers`), no NUL, CR or LF in a value nor white space around it, one
 * content-length. A request that fails is malformed (the stream is reset with PROTOCOL_ERROR).
 *
 * @module
 */

/** A request head that passed. */
export interface RequestHead {
  readonly method: string;
  readonly path: string;
  /** `:authority`, else the Host field, else "". */
  readonly authority: string;
  /** The regular fields `[name, value, …]`: `host` first when only `:authority` named it, cookies joined (§8.2.3). */
  readonly fields: string[];
  /** The content-length, or -1. */
  readonly contentLength: number;
  /** `expect: 100-continue` asks for an interim 100 before the body is sent. */
  readonly expectContinue: boolean;
}

/** Token characters (RFC 9110 §5.6.2) in lower case: which bytes a field name may hold. */
const NAME = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME[c.charCodeAt(0)] = 1;
/** Token characters in any case: a method. */
const TOKEN = NAME.slice();
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;

function isName(s: string, table: Uint8Array): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || table[c] === 0) return false;
  }
  return true;
}

/** A value with no NUL, CR or LF, and no white space at either end. */
function valueOk(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  let c = v.charCodeAt(0);
  if (c === 32 || c === 9) return false;
  c = v.charCodeAt(n - 1);
  if (c === 32 || c === 9) return false;
  for (let i = 0; i < n; i++) {
    c = v.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13) return false;
  }
  return true;
}

/** Is the name a connection-specific field (§8.2.2)? `te` is checked apart. */
function connectionSpecific(name: string): boolean {
  switch (name.length) {
    case 7:
      return name === "upgrade";
    case 10:
      return name === "connection" || name === "keep-alive";
    case 16:
      return name === "proxy-connection";
    case 17:
      return name === "transfer-encoding";
    default:
      return false;
  }
}

/**
 * Checks a decoded request head.
 *
 * @param list `[name, value, …]` as HPACK decoded it.
 * @returns The head, or why it is malformed.
 */
export function requestHead(list: readonly string[]): RequestHead | string {
  let method: string | undefined, scheme: string | undefined, path: string | undefined;
  let authority: string | undefined, host: string | undefined, cookie: string | undefined;
  let contentLength = -1;
  let regular = false;
  let expectContinue = false;
  const fields: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const value = list[i + 1]!;
    if (name.charCodeAt(0) === 58) {
      if (regular) return "a pseudo-header field after a regular one";
      switch (name) {
        case ":method":
          if (method !== undefined) return "two :method";
          method = value;
          break;
        case ":scheme":
          if (scheme !== undefined) return "two :scheme";
          scheme = value;
          break;
        case ":path":
          if (path !== undefined) return "two :path";
          path = value;
          break;
        case ":authority":
          if (authority !== undefined) return "two :authority";
          authority = value;
          break;
        default:
          return `the pseudo-header field ${name}`;
      }
      if (!valueOk(value)) return `a bad value of ${name}`;
      continue;
    }
    regular = true;
    if (!isName(name, NAME)) return `a bad field name ${JSON.stringify(name)}`;
    if (!valueOk(value)) return `a bad value of ${name}`;
    if (connectionSpecific(name)) return `the connection-specific field ${name}`;
    switch (name) {
      case "te":
        if (value !== "trailers") return "te other than trailers";
        break;
      case "content-length": {
        if (!/^\d{1,15}$/.test(value)) return "a bad content-length";
        const n = Number(value);
        if (contentLength >= 0 && n !== contentLength) return "two content-lengths";
        contentLength = n;
        break;
      }
      case "host":
        if (host !== undefined) return "two host fields";
        host = value;
        break;
      case "expect":
        // Only `100-continue` asks for anything (RFC 9110 §10.1.1); the field goes on as it came.
        if (value.toLowerCase() === "100-continue") expectContinue = true;
        break;
      case "cookie":
        // Cookie crumbs are joined into one field for an HTTP/1.1 upstream (§8.2.3).
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        continue;
    }
    fields.push(name, value);
  }
  if (method === undefined) return "no :method";
  if (!isName(method, TOKEN)) return "a bad :method";
  if (method === "CONNECT") return "CONNECT";
  if (scheme === undefined || path === undefined) return "no :scheme or :path";
  if (path.charCodeAt(0) !== 47 && !(path === "*" && method === "OPTIONS")) return "a :path not starting with /";
  for (let i = 0; i < path.length; i++) {
    // As on a request line: no space or control character (an HTTP/1.1 upstream would read a broken line).
    const c = path.charCodeAt(i);
    if (c <= 32 || c === 127) return "a :path with a space or a control character";
  }
  if (authority !== undefined && host !== undefined && authority !== host) return "host differs from :authority";
  if (cookie !== undefined) fields.push("cookie", cookie);
  const auth = authority ?? host ?? "";
  if (host === undefined && auth !== "") fields.unshift("host", auth);
  return { method, path, authority: auth, fields, contentLength, expectContinue };
}
