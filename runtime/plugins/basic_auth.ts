/**
 * `basic_auth`: HTTP Basic credentials against a fixed list of accounts, as Pingap's `basic_auth` plugin: a missing
 * `Authorization` gets `401 Authorization is missing`, wrong credentials `401 Invalid user or password` (after
 * `delay`), both with `WWW-Authenticate: Basic realm="Access to the staging site"`. The scheme is case-insensitive
 * (Pingap 0.16) and the credentials are compared in constant time. With `hide_credentials` the upstream never sees
 * the header. With `ip_fail_limit`, a client IP that sent that many wrong credentials within `ip_fail_window` gets
 * `403 Forbidden, too many failures` until the window ends (counted per worker). The accounts of `htpasswd` are
 * checked by their bcrypt or argon2 hash, off the request path (basic_auth_hashed.ts). Credentials are never logged.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { matchesAny, pause } from "./constant_time.ts";
import { FailCounter } from "./fail_counter.ts";
import { HashedAccounts } from "./basic_auth_hashed.ts";
import { runtimePlugin } from "./contract.ts";

/** What {@linkcode checkBasicAuth} found. */
export type BasicAuthVerdict = "ok" | "missing" | "invalid";

/**
 * The credentials of a `Basic` Authorization value: what follows the scheme, trimmed, when the scheme (before the
 * first space) is `basic` in any case; else undefined.
 *
 * @example Usage
 * ```ts
 * import { basicCredentials } from "./basic_auth.ts";
 * if (basicCredentials("basic  YWJj ") !== "YWJj" || basicCredentials("Bearer YWJj") !== undefined) throw new Error();
 * ```
 */
export function basicCredentials(value: string): string | undefined {
  // The scheme checked in place: this runs on every request of the location.
  if (value.length < 6 || value.charCodeAt(5) !== 32 || value.slice(0, 5).toLowerCase() !== "basic") {
    return undefined;
  }
  let start = 6;
  let end = value.length;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** Space or tab. */
function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * Pingap's decision: an absent or empty header is `missing`; otherwise the credentials must equal one of `accounts`
 * (each the base64 of `user:password`, without the scheme).
 *
 * @example Usage
 * ```ts
 * import { checkBasicAuth } from "./basic_auth.ts";
 * const accounts = ["YWRtaW46MTIzMTIz"];
 * if (checkBasicAuth("Basic YWRtaW46MTIzMTIz", accounts) !== "ok") throw new Error();
 * if (checkBasicAuth("Basic YWRtaW46MTIzMTIa", accounts) !== "invalid") throw new Error();
 * if (checkBasicAuth(null, accounts) !== "missing") throw new Error();
 * ```
 */
export function checkBasicAuth(header: string | null, accounts: readonly string[]): BasicAuthVerdict {
  if (!header) return "missing";
  const credentials = basicCredentials(header);
  return credentials !== undefined && matchesAny(credentials, accounts) ? "ok" : "invalid";
}

/** Creates the basic_auth plugin. */
export const basicAuth = runtimePlugin(PLUGIN_DEFINITIONS.basicAuth, (c) => {
  const accounts = c.expected.map((e) => e.slice("Basic ".length));
  // Pingap's answers: a plugin response (`private, no-cache`) with the Basic challenge.
  const challenge = [["cache-control", "private, no-cache"], ["www-authenticate", c.challenge]] as const;
  const missing = new StaticAnswer(401, challenge, "Authorization is missing");
  const invalid = new StaticAnswer(401, challenge, "Invalid user or password");
  const tooMany = new StaticAnswer(403, [["cache-control", "private, no-store"]], "Forbidden, too many failures");
  const failures = c.ipFailLimit > 0 ? new FailCounter(c.ipFailLimit, c.ipFailWindow) : undefined;
  const hashed = c.hashed.length > 0 ? new HashedAccounts(c.hashed) : undefined;
  const refuse = (ip: string) => {
    // Only wrong credentials count: a missing header is how every browser starts.
    failures?.fail(ip);
    return pause(c.delay)?.then(() => invalid) ?? invalid;
  };
  return {
    request(ctx) {
      // A blocked IP is refused before its credentials are looked at: guessing stops paying off even when right.
      if (failures && !failures.allows(ctx.clientIp())) return tooMany;
      const header = ctx.header("authorization");
      if (!header) return missing;
      const credentials = basicCredentials(header);
      let verdict = credentials !== undefined && matchesAny(credentials, accounts);
      if (!verdict && hashed && credentials !== undefined) {
        verdict = hashed.isVerified(credentials);
        if (!verdict) {
          const ip = ctx.clientIp();
          const allowed = failures ? () => failures.allows(ip) : () => true;
          return hashed.verify(credentials, allowed).then((ok) => {
            if (ok === undefined) return tooMany;
            if (!ok) return refuse(ip);
            if (c.hideCredentials) ctx.upstreamHeaders.delete("authorization");
            return undefined;
          });
        }
      }
      if (verdict) {
        if (c.hideCredentials) ctx.upstreamHeaders.delete("authorization");
        return undefined;
      }
      return refuse(ctx.clientIp());
    },
    ...(hashed ? { dispose: () => hashed.dispose() } : {}),
  };
});
