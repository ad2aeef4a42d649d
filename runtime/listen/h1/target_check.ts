/**
 * Checks of a request's target path and `Host` value shared by the fast path ({@linkcode parseHead}) and the screen
 * (screen.ts): what nginx answers 400 and hyper would pass on. Both are called only when a cheap byte scan the
 * parser does anyway saw a reason (a `%`, a `/.`), or on a short value (Host).
 *
 * @module
 */

/** Hex digit value, or -1. */
function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * Is the path of an origin-form target (`/…`, query included) one to refuse with 400, as nginx does? A `%` not
 * followed by two hex digits, `%00`, or a `..` segment (also written `%2e`) that climbs above the root (`/../x`;
 * `/a/../x` is fine, and becomes `/x` for routing). The query is not looked at.
 *
 * @param target Starts with `/`.
 */
export function badPath(target: string): boolean {
  let end = target.indexOf("?");
  if (end < 0) end = target.length;
  let depth = 0;
  // The current segment's length in decoded characters, and how many of them are `.`.
  let segLen = 0;
  let dots = 0;
  for (let i = 1; i <= end; i++) {
    let c = i === end ? 47 : target.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= end) return true;
      const hi = hex(target.charCodeAt(i + 1));
      const lo = hex(target.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return true;
      c = hi * 16 + lo;
      if (c === 0) return true;
      // `%2F` is a `/` to routing too (path_normalize.ts), as to nginx.
      i += 2;
    }
    if (c === 47) {
      if (segLen > 0) {
        if (dots === 2 && segLen === 2) {
          if (--depth < 0) return true;
        } else if (!(dots === 1 && segLen === 1)) depth++;
      }
      segLen = dots = 0;
    } else {
      segLen++;
      if (c === 46) dots++;
    }
  }
  return false;
}

/**
 * Bytes a `Host` value may hold (RFC 3986 `reg-name` / `IP-literal`, `:` for the port): unreserved, sub-delims, `%`,
 * `:`, `[`, `]`; bytes past ASCII are let through (raw UTF-8 names, as nginx does).
 */
const HOST_CHAR = (() => {
  const t = new Uint8Array(128);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]") {
    t[c.charCodeAt(0)] = 1;
  }
  return t;
})();

/**
 * Is `host` a valid `Host` value, `uri-host [ ":" port ]` (RFC 9112 §3.2: anything else is a 400)? Not empty, only
 * {@linkcode HOST_CHAR} bytes (no space, `/`, `?`, `#`, `@`, `\`), no `..` (nginx's rule), an IP literal closed by
 * `]`, a port of digits only.
 */
export function validHost(host: string): boolean {
  const n = host.length;
  if (n === 0) return false;
  let colon = -1;
  let close = -1;
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c < 128 && HOST_CHAR[c] !== 1) return false;
    if (c === 46 && i > 0 && host.charCodeAt(i - 1) === 46) return false;
    if (c === 58) colon = i;
    else if (c === 93) close = i;
  }
  let portFrom: number;
  if (host.charCodeAt(0) === 91 /* [ */) {
    if (close < 0 || host.indexOf("[", 1) >= 0 || host.indexOf("]") !== close) return false;
    if (close === n - 1) return true;
    if (host.charCodeAt(close + 1) !== 58) return false;
    portFrom = close + 2;
  } else {
    if (close >= 0 || host.indexOf("[") >= 0) return false;
    if (colon < 0) return true;
    if (host.indexOf(":") !== colon || colon === 0) return false;
    portFrom = colon + 1;
  }
  // `port = *DIGIT` (RFC 3986): it may be empty.
  if (n - portFrom > 5) return false;
  for (let i = portFrom; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
