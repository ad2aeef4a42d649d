/**
 * The fields a request's `Connection` header names ("nominates"), and Pingap 0.16's rules on them
 * (`strip_connection_nominated`, `reject_malformed_connection_nominations`, as its Pingora does): naming `Host`,
 * `X-Forwarded-For`, `X-Forwarded-Host`, `X-Forwarded-Proto` or a pseudo-header (`:authority`) is refused — removing it
 * would let a client make the proxy send the backend's address as `Host` or drop the forwarding fields it adds — and so
 * is a tenth token. A token that is no field name (`"x-a"`, `x/a`) is refused too, or ignored when malformed ones are
 * allowed. A refusal is a {@linkcode ClientRequestError}: a 400, nothing sent.
 *
 * @module
 */
import { ClientRequestError } from "./types.ts";

/** Pingora reads at most this many tokens less one: the tenth is refused. */
const MAX_NOMINATIONS = 10;

/** `tchar` of RFC 9110 §5.6.2 by code: 1 when allowed in a token. */
const TCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9!#$%&'*+\-.^_`|~]/.test(ch)) TCHAR[c] = 1;
}

/** Is `s` a token (one or more `tchar`)? */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A name no nomination may remove (lower case). */
function isProtected(name: string): boolean {
  return name === "host" || name === "x-forwarded-for" || name === "x-forwarded-host" || name === "x-forwarded-proto";
}

function refuse(why: string, token: string): ClientRequestError {
  return new ClientRequestError(`Cannot send request: ${why}: ${JSON.stringify(token.slice(0, 64))}`);
}

/**
 * The lower-case field names a `Connection` value nominates, checked by Pingap's rules (see the module).
 *
 * `close` and `keep-alive` are left out unless `all` (the usual `Connection: keep-alive` then makes no list), and so is
 * `content-length`: it frames the body the head is sent with (dropping it would send the body unframed, to be read as
 * the next request on the pooled connection).
 *
 * @example Usage
 * ```ts
 * import { nominations } from "./nominations.ts";
 * if (nominations("keep-alive, X-Trace", true, false)?.[0] !== "x-trace") throw new Error();
 * ```
 *
 * @param value The `Connection` value (several fields joined with commas).
 * @param rejectMalformed A token that is no field name is refused (else ignored).
 * @param all Keep `close` and `keep-alive` in the list.
 * @returns The names, or null when there are none.
 * @throws {ClientRequestError} For a nomination that is refused.
 */
export function nominations(value: string, rejectMalformed: boolean, all: boolean): string[] | null {
  // The usual values, without a split.
  if (!all && (value === "keep-alive" || value === "Keep-Alive" || value === "close")) return null;
  let out: string[] | null = null;
  let count = 0;
  for (const raw of value.split(",")) {
    const token = raw.trim();
    if (token === "") continue;
    if (++count >= MAX_NOMINATIONS) throw refuse("too many Connection header nominations", value);
    if (token.charCodeAt(0) === 58 /* : */) throw refuse("protected header cannot be nominated", token);
    if (!isToken(token)) {
      if (rejectMalformed) throw refuse("invalid token nominated by the Connection header", token);
      continue;
    }
    const name = token.toLowerCase();
    if (isProtected(name)) throw refuse("protected header cannot be nominated", token);
    if (name === "content-length" || (!all && (name === "keep-alive" || name === "close"))) continue;
    (out ??= []).push(name);
  }
  return out;
}

/**
 * The field names a `Connection` value nominates that may be removed, never refusing: for a copy of the request's
 * headers made before it is sent (proxy/context.ts), whose refusal {@linkcode nominationRefusal} gives. Protected
 * names, malformed tokens and `content-length` are left out, and `close` and `keep-alive` unless `all`.
 *
 * @param value The `Connection` value.
 * @param all Keep `close` and `keep-alive` in the list.
 * @returns The names, or null when there are none.
 */
export function removableNominations(value: string, all: boolean): string[] | null {
  let out: string[] | null = null;
  for (const raw of value.split(",")) {
    const token = raw.trim();
    if (!isToken(token)) continue;
    const name = token.toLowerCase();
    if (isProtected(name) || name === "content-length" || (!all && (name === "keep-alive" || name === "close"))) {
      continue;
    }
    (out ??= []).push(name);
  }
  return out;
}

/**
 * Why a `Connection` value is refused under these rules, or undefined when it is not.
 *
 * @param value The `Connection` value.
 * @param rejectMalformed A token that is no field name is refused.
 * @returns The refusal (a {@linkcode ClientRequestError}) or undefined.
 */
export function nominationRefusal(value: string, rejectMalformed: boolean): ClientRequestError | undefined {
  try {
    nominations(value, rejectMalformed, false);
    return undefined;
  } catch (e) {
    if (e instanceof ClientRequestError) return e;
    throw e;
  }
}
