/**
 * The check of `combined_auth`, without I/O (pingap-plugin/src/combined_auth.rs): the query names the app
 * (`app_id`), a Unix time (`ts`) and `digest`, the hex SHA-256 of `<secret>:<ts>`. In Pingap's order: a missing app
 * id, an unknown one, a client IP outside the app's `ip_list`, a missing `ts`, one that is not an integer, one
 * further than `deviation` seconds from now, a missing digest, a wrong one; each has Pingap's message. An app whose
 * secret is `*` passes at once.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { type CombinedAuthPlan, ipInList } from "../../compiler/mod.ts";

/** A query parameter as Pingap reads it: the first `name=value` pair (pairs without `=` skipped), value trimmed. */
export function pingapQueryValue(query: string, name: string): string | undefined {
  // Scanned in place: no array of pairs per request.
  let start = 0;
  while (start <= query.length && query !== "") {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    const eq = query.indexOf("=", start);
    if (eq >= 0 && eq < end && eq - start === name.length && query.startsWith(name, start)) {
      return query.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * Why the request is refused, or undefined when it passes.
 *
 * @param plan The compiled apps.
 * @param query The raw query (no `?`).
 * @param clientIp The client IP, read only when the app has an `ip_list`.
 * @param nowSec The server clock, Unix seconds.
 */
export function combinedAuthRefusal(
  plan: CombinedAuthPlan,
  query: string,
  clientIp: () => string,
  nowSec: number,
): string | undefined {
  const appId = pingapQueryValue(query, "app_id");
  if (appId === undefined) return "app id is empty";
  const app = plan.apps.get(appId);
  if (app === undefined) return "app id is invalid";
  if (app.superUser) return undefined;
  if (app.ipList !== undefined && !ipInList(app.ipList, clientIp())) return "ip is invalid";
  const ts = pingapQueryValue(query, "ts") ?? "";
  if (ts === "") return "timestamp is empty";
  const parsed = parseI64(ts);
  if (typeof parsed === "string") return parsed;
  if (abs(BigInt(Math.floor(nowSec)) - parsed) > BigInt(app.deviation)) return "timestamp deviation is invalid";
  const digest = pingapQueryValue(query, "digest") ?? "";
  if (digest === "") return "digest is empty";
  const expected = Buffer.from(createHash("sha256").update(`${app.secret}:${ts}`).digest("hex"));
  const given = Buffer.from(digest.toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "digest is invalid";
  return undefined;
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** An i64 as Rust's `str::parse` reads it, or Rust's error text. */
function parseI64(text: string): bigint | string {
  if (!/^[+-]?[0-9]+$/.test(text)) return "invalid digit found in string";
  const n = BigInt(text);
  if (n > I64_MAX) return "number too large to fit in target type";
  if (n < I64_MIN) return "number too small to fit in target type";
  return n;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}
