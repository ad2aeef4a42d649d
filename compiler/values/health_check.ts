/**
 * Health-check URLs: `<tcp|http|https|grpc>://<host>[/path][?params]`.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { parseBoundedDuration } from "../units.ts";

/** A parsed health check. Times are in milliseconds. */
export interface HealthCheck {
  readonly scheme: "tcp" | "http" | "https" | "grpc";
  /** Host sent in `Host` (HTTP) or used as authority (gRPC). */
  readonly host: string;
  /** Path plus unknown query params, e.g. `/ping?from=nginx`; "" for tcp. */
  readonly path: string;
  readonly connectionTimeout: number;
  readonly readTimeout: number;
  readonly checkFrequency: number;
  /** Consecutive successes to become healthy. */
  readonly success: number;
  /** Consecutive failures to become unhealthy. */
  readonly failure: number;
  readonly reuse: boolean;
  readonly tls: boolean;
  readonly service: string;
  readonly parallel: boolean;
}

/** The check used when an upstream has no `health_check`: TCP connect. */
export const DEFAULT_HEALTH_CHECK: HealthCheck = {
  scheme: "tcp",
  host: "",
  path: "",
  connectionTimeout: 3000,
  readTimeout: 3000,
  checkFrequency: 10_000,
  success: 1,
  failure: 2,
  reuse: false,
  tls: false,
  service: "",
  parallel: false,
};

const KNOWN = new Set([
  "connection_timeout",
  "read_timeout",
  "check_frequency",
  "success",
  "failure",
  "reuse",
  "tls",
  "service",
  "parallel",
]);

/**
 * Parses a health-check URL.
 *
 * @example Usage
 * ```ts
 * import { healthCheck } from "./health_check.ts";
 * const r = healthCheck("http://charts/ping?check_frequency=5s&from=nginx");
 * if (!r.ok || r.value.checkFrequency !== 5000 || r.value.path !== "/ping?from=nginx") throw new Error();
 * ```
 */
export function healthCheck(text: string): Parsed<HealthCheck> {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(text.trim());
  if (!m) {
    return {
      ok: false,
      message: `Health check ${JSON.stringify(text)} is not a URL`,
      hint: 'Write e.g. "http://upstream/ping?check_frequency=10s"',
    };
  }
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "tcp" && scheme !== "http" && scheme !== "https" && scheme !== "grpc") {
    return {
      ok: false,
      message: `Health check scheme ${JSON.stringify(m[1])} is not supported`,
      hint: "Use tcp://, http://, https:// or grpc://",
    };
  }
  const host = m[2]!;
  if (host === "") {
    return {
      ok: false,
      message: `Health check ${JSON.stringify(text)} has an empty host`,
      hint: 'Write a host, e.g. "http://upstream/ping"',
    };
  }
  const out = { ...DEFAULT_HEALTH_CHECK, scheme, host, path: scheme === "tcp" ? "" : m[3] || "/" } as {
    -readonly [K in keyof HealthCheck]: HealthCheck[K];
  };
  const extra: string[] = [];
  for (const pair of (m[4] ?? "").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeURIComponent(eq < 0 ? "" : pair.slice(eq + 1));
    if (!KNOWN.has(key)) {
      extra.push(pair);
      continue;
    }
    if (key === "connection_timeout" || key === "read_timeout" || key === "check_frequency") {
      const ms = parseBoundedDuration(value);
      if (typeof ms === "string") {
        return { ok: false, message: `Health check parameter ${key}: ${ms}`, hint: 'Use a duration such as "3s"' };
      }
      if (key === "connection_timeout") out.connectionTimeout = ms;
      else if (key === "read_timeout") out.readTimeout = ms;
      else out.checkFrequency = ms;
    } else if (key === "success" || key === "failure") {
      if (!/^\d+$/.test(value) || Number(value) < 1) {
        return {
          ok: false,
          message: `Health check parameter ${key}=${JSON.stringify(value)} is not a positive integer`,
        };
      }
      // Past 2^53 the count is no longer exact, and 400 digits are Infinity: a backend would never change state.
      if (!Number.isSafeInteger(Number(value))) {
        return {
          ok: false,
          message: `Health check parameter ${key}=${JSON.stringify(value)} is too large`,
          hint: `Use a count from 1 to ${Number.MAX_SAFE_INTEGER}`,
        };
      }
      out[key] = Number(value);
    } else if (key === "service") out.service = value;
    else out[key as "reuse" | "tls" | "parallel"] = true; // Pingap: presence enables, whatever the value.
  }
  if (extra.length && out.scheme !== "tcp") out.path += (out.path.includes("?") ? "&" : "?") + extra.join("&");
  return { ok: true, value: out };
}
