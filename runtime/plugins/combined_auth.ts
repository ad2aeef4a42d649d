/**
 * `combined_auth`: API clients by app, as Pingap's `combined_auth` plugin. A request carries the query parameters
 * `app_id`, `ts` (unix seconds) and `digest` (hex SHA-256 of `secret:ts`); the steps, in Pingap's order, are: a known
 * app (a `*` secret passes at once), the client IP in the app's `ip_list` (the client IP of `trusted_proxies`), `ts`
 * within `deviation` seconds of now, the digest compared in constant time. A refusal is a 401, `private, no-store`,
 * whose body is Pingap's error text (`Plugin combined_auth invalid, message: <reason>`). Secrets and digests are never
 * logged.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type CombinedAuthApp, type CombinedAuthPlan, ipInList } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { queryValue } from "./query_param.ts";
import { configOf, type PluginFactory } from "./types.ts";

/** What a combined_auth request must show, read from its raw query and its client. */
export interface CombinedAuthRequest {
  readonly appId: string | undefined;
  readonly ts: string | undefined;
  readonly digest: string | undefined;
  /** The verified client IP (read only when the app has an `ip_list`). */
  clientIp(): string;
}

/**
 * Rust's `str::parse::<i64>()`: an optional sign and decimal digits; otherwise its error text.
 *
 * @example Usage
 * ```ts
 * import { parseI64 } from "./combined_auth.ts";
 * if (parseI64("+12") !== 12 || parseI64("1a") !== "invalid digit found in string") throw new Error();
 * ```
 */
export function parseI64(text: string): number | string {
  const m = /^([+-]?)(\d+)$/.exec(text);
  if (!m) {
    return text === "" || text === "+" || text === "-"
      ? "cannot parse integer from empty string"
      : "invalid digit found in string";
  }
  const n = BigInt(text);
  if (n > 9223372036854775807n) return "number too large to fit in target type";
  if (n < -9223372036854775808n) return "number too small to fit in target type";
  return Number(n);
}

/** The hex SHA-256 of `secret:ts`, the digest an app sends. */
export function combinedDigest(secret: string, ts: string): string {
  return createHash("sha256").update(`${secret}:${ts}`).digest("hex");
}

/**
 * Pingap's reason for refusing the request, or undefined when it passes (`now` in unix seconds).
 *
 * @example Usage
 * ```ts
 * import { checkCombinedAuth, combinedDigest } from "./combined_auth.ts";
 * const apps = new Map([["pingap", { secret: "abcd", superUser: false, deviation: 60 }]]);
 * const req = (appId?: string, ts?: string, digest?: string) => ({ appId, ts, digest, clientIp: () => "127.0.0.1" });
 * if (checkCombinedAuth(req(), apps, 1000) !== "app id is empty") throw new Error();
 * if (checkCombinedAuth(req("pingap", "123"), apps, 1000) !== "timestamp deviation is invalid") throw new Error();
 * if (checkCombinedAuth(req("pingap", "990", combinedDigest("abcd", "990")), apps, 1000) !== undefined) throw new Error();
 * ```
 */
export function checkCombinedAuth(
  req: CombinedAuthRequest,
  apps: ReadonlyMap<string, CombinedAuthApp>,
  now: number,
): string | undefined {
  if (req.appId === undefined) return "app id is empty";
  const app = apps.get(req.appId);
  if (app === undefined) return "app id is invalid";
  if (app.superUser) return undefined;
  if (app.ipList !== undefined && !ipInList(app.ipList, req.clientIp())) return "ip is invalid";
  const ts = req.ts ?? "";
  if (ts === "") return "timestamp is empty";
  const value = parseI64(ts);
  if (typeof value === "string") return value;
  if (Math.abs(now - value) > app.deviation) return "timestamp deviation is invalid";
  const digest = req.digest ?? "";
  if (digest === "") return "digest is empty";
  if (!constantTimeEqual(digest.toLowerCase(), combinedDigest(app.secret, ts))) return "digest is invalid";
  return undefined;
}

/** Creates the combined_auth plugin. */
export const combinedAuth: PluginFactory = (plan) => {
  const c = configOf<CombinedAuthPlan>(plan);
  const answers = new Map<string, StaticAnswer>();
  const refuse = (reason: string) => {
    let answer = answers.get(reason);
    if (answer === undefined) {
      answer = new StaticAnswer(
        401,
        [["cache-control", "private, no-store"]],
        `Plugin combined_auth invalid, message: ${reason}`,
      );
      // The reasons are a handful of fixed texts.
      if (answers.size < 32) answers.set(reason, answer);
    }
    return answer;
  };
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      const q = ctx.rawQuery;
      const reason = checkCombinedAuth(
        {
          appId: queryValue(q, "app_id"),
          ts: queryValue(q, "ts"),
          digest: queryValue(q, "digest"),
          clientIp: () => ctx.clientIp(),
        },
        c.apps,
        Math.floor(Date.now() / 1000),
      );
      return reason === undefined ? undefined : refuse(reason);
    },
  };
};
