/**
 * The decisions of `forward_auth`, without I/O: which client headers go to the auth service, what the auth service's
 * answer means, and which of its headers reach the client or the upstream. `forward_auth.ts` does the subrequest.
 *
 * Pingap's rules (pingap-plugin/src/forward_auth.rs): a bodiless `GET` to `auth_url` with the client's headers (all,
 * or those of `request_headers`) minus the ones that describe the client's connection or body, plus
 * `X-Forwarded-Method`, `-Uri`, `-Host`, `-Proto` and `-For`. A `2xx` lets the request through, copying the
 * `add_headers` of the answer onto the upstream request; any other status is relayed to the client with its headers
 * (minus framing and hop-by-hop ones) and body; a subrequest that fails gives `502 Forward auth request failed`.
 *
 * @module
 */

/** Client headers never sent to the auth service: they describe the client's connection or a body the GET lacks. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);

/** Auth-answer headers never relayed to the client: the proxy frames the answer itself. */
const NOT_RELAYED: ReadonlySet<string> = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
]);

/** The `X-Forwarded-*` headers the auth service gets: what the client asked for, and who it is. */
export interface ForwardedFacts {
  /** The client's method. */
  readonly method: string;
  /** Path and query as the upstream would get them. */
  readonly uri: string;
  /** The request's host, without port. */
  readonly host: string;
  /** `http` or `https`: the scheme the client used. */
  readonly proto: string;
  /** The client IP (see `trusted_proxies`). */
  readonly clientIp: string;
}

/** Body of the answer when the auth service cannot be asked (Pingap's text). */
export const FAILED_MESSAGE = "Forward auth request failed";

/** Status of that answer: the auth service failed, as a gateway's upstream fails. */
export const FAILED_STATUS = 502;

/**
 * The headers of the subrequest.
 *
 * @param fields The client's fields, `[name, value, …]` with lower-case names.
 * @param wanted Lower-case names to forward (`request_headers`); empty forwards every one.
 * @param facts The `X-Forwarded-*` values.
 * @param authHost The `Host` of `auth_url`.
 * @param authorization An `Authorization` value made from the user info of `auth_url`, replacing the client's.
 * @returns Headers for the GET to the auth service.
 */
export function authRequestHeaders(
  fields: readonly string[],
  wanted: readonly string[],
  facts: ForwardedFacts,
  authHost: string,
  authorization?: string,
): Headers {
  const out = new Headers();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    if (NOT_FORWARDED.has(name)) continue;
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    out.append(name, fields[i + 1]!);
  }
  out.set("host", authHost);
  // Set, not appended: a client that sends its own `X-Forwarded-Uri` must not choose what the auth service reads.
  out.set("x-forwarded-method", facts.method);
  out.set("x-forwarded-uri", facts.uri);
  out.set("x-forwarded-host", facts.host);
  out.set("x-forwarded-proto", facts.proto);
  out.set("x-forwarded-for", facts.clientIp);
  if (authorization !== undefined) out.set("authorization", authorization);
  return out;
}

/** What to do with the request, given the auth service's status. */
export type AuthVerdict =
  /** Let the request through (a `2xx`). */
  | "pass"
  /** Answer the client with the auth service's status, headers and body. */
  | "relay"
  /** The answer cannot be relayed (a status a response cannot carry): fail closed. */
  | "fail";

/** The verdict for the auth service's status. */
export function verdictOf(status: number): AuthVerdict {
  if (status >= 200 && status <= 299) return "pass";
  return status >= 300 && status <= 599 ? "relay" : "fail";
}

/**
 * The auth answer's fields to relay to the client, framing and hop-by-hop ones left out.
 *
 * @param fields The answer's fields, `[name, value, …]` with lower-case names.
 */
export function relayedFields(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    if (!NOT_RELAYED.has(name)) out.push([name, fields[i + 1]!]);
  }
  return out;
}

/**
 * The upstream-request headers a passing answer sets: for each of `add_headers`, the answer's value, or null to
 * remove the client's own (a client must not send `X-User-Id` itself and have it pass as the auth service's).
 *
 * @param answer The auth answer's fields, `[name, value, …]` with lower-case names.
 * @param names `add_headers`, lower-case.
 */
export function copiedHeaders(answer: readonly string[], names: readonly string[]): [string, string | null][] {
  const out: [string, string | null][] = [];
  for (const name of names) {
    let value: string | null = null;
    for (let i = 0; i + 1 < answer.length; i += 2) {
      if (answer[i] === name) value = value === null ? answer[i + 1]! : `${value}, ${answer[i + 1]!}`;
    }
    out.push([name, value]);
  }
  return out;
}

/** Where the subrequest goes, worked out once from `auth_url`. */
export interface AuthTarget {
  /** Host name or IP (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** `host:port`, IPv6 in brackets. */
  readonly addr: string;
  readonly tls: boolean;
  /** Path and query for the request line. */
  readonly target: string;
  /** The `Host` header: the URL's host, its port only when not the scheme's default. */
  readonly hostHeader: string;
  /** `Basic …` from the URL's user info, if it has one. */
  readonly authorization?: string;
}

/** Takes `auth_url` apart (the compiler checked it is an absolute http(s) URL). */
export function authTarget(authUrl: string): AuthTarget {
  const url = new URL(authUrl);
  const tls = url.protocol === "https:";
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  const bracketed = url.hostname.startsWith("[");
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  const user = url.username || url.password
    ? `Basic ${base64Utf8(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)}`
    : undefined;
  return {
    host,
    port,
    addr: `${bracketed ? `[${host}]` : host}:${port}`,
    tls,
    target: `${url.pathname}${url.search}`,
    hostHeader: url.host,
    ...(user !== undefined ? { authorization: user } : {}),
  };
}

/** Base64 of the UTF-8 bytes of `text`. */
function base64Utf8(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}
