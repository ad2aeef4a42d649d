/**
 * `prometheus_metrics`: a path answered with the metrics (pull), or a
 * Pushgateway URL (contains `://`) pushed to. A push URL is parsed here
 * once: it must be an `http(s)` URL (with `$HOSTNAME` standing for the host
 * name, which only the runtime knows), and its `interval` parameter a
 * duration; credentials become a basic-auth header. As in Pingap the push
 * runs on a one-minute tick, so the interval is rounded down to whole
 * minutes, at least one.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { parseBoundedDuration } from "../units.ts";

/** A parsed push URL. */
export interface PushTarget {
  /** Where to POST: credentials removed, query kept; `$HOSTNAME` is replaced by the runtime. */
  readonly url: string;
  /** `Basic …` when the URL had user info. */
  readonly authorization?: string;
  /** The period, ms: whole minutes, at least one. */
  readonly intervalMs: number;
  /** The `interval` parameter as given, ms. */
  readonly requestedMs?: number;
}

/** Where a `prometheus_metrics` value points. */
export type MetricsTarget =
  | { readonly kind: "pull"; readonly path: string }
  | ({ readonly kind: "push" } & PushTarget);

const MINUTE = 60_000;
/** Stands for `$HOSTNAME` while the URL is parsed (lower case: a URL's host is lower-cased). */
const HOST_MARK = "pingap-hostname-mark";

function base64(text: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * Parses a push URL.
 *
 * @example Usage
 * ```ts
 * import { pushTarget } from "./metrics_target.ts";
 * const t = pushTarget("http://u:p@gw:9091/metrics/job/pingap/instance/$HOSTNAME?interval=2m30s");
 * if (!t.ok || t.value.url !== "http://gw:9091/metrics/job/pingap/instance/$HOSTNAME?interval=2m30s") throw new Error();
 * if (t.value.authorization !== "Basic " + btoa("u:p") || t.value.intervalMs !== 120_000) throw new Error();
 * ```
 */
export function pushTarget(text: string): Parsed<PushTarget> {
  const raw = text.trim();
  let u: URL;
  try {
    u = new URL(raw.replaceAll("$HOSTNAME", HOST_MARK));
  } catch {
    return {
      ok: false,
      message: `Push URL ${JSON.stringify(raw)} does not parse`,
      hint: 'Write the Pushgateway URL, e.g. "http://gw:9091/metrics/job/pingap/instance/$HOSTNAME"',
    };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return {
      ok: false,
      message: `Push URL ${JSON.stringify(raw)} is not http or https`,
      hint: 'A Pushgateway is reached over http(s); a pull path starts with "/" (e.g. "/metrics")',
    };
  }
  let authorization: string | undefined;
  if (u.username !== "" || u.password !== "") {
    try {
      authorization = `Basic ${base64(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`)}`;
    } catch {
      return { ok: false, message: "Push URL credentials are not valid percent-encoding", hint: "Encode them again" };
    }
    u.username = "";
    u.password = "";
  }
  let requestedMs: number | undefined;
  const param = u.searchParams.get("interval");
  if (param !== null) {
    const ms = parseBoundedDuration(param);
    if (typeof ms === "string") {
      return { ok: false, message: `Parameter interval: ${ms}`, hint: "Write interval=<duration>, e.g. interval=1m" };
    }
    requestedMs = ms;
  }
  return {
    ok: true,
    value: {
      url: u.href.replaceAll(HOST_MARK, "$HOSTNAME"),
      ...(authorization ? { authorization } : {}),
      intervalMs: Math.max(1, Math.floor((requestedMs ?? MINUTE) / MINUTE)) * MINUTE,
      ...(requestedMs !== undefined ? { requestedMs } : {}),
    },
  };
}

/**
 * Parses a `prometheus_metrics` value: undefined when blank, a pull path,
 * or a push target (the value contains `://`).
 *
 * @example Usage
 * ```ts
 * import { metricsTarget } from "./metrics_target.ts";
 * const pull = metricsTarget("/metrics");
 * if (!pull.ok || pull.value?.kind !== "pull") throw new Error();
 * if (metricsTarget("http://[bad/x").ok) throw new Error();
 * ```
 */
export function metricsTarget(text: string): Parsed<MetricsTarget | undefined> {
  const v = text.trim();
  if (v === "") return { ok: true, value: undefined };
  if (!v.includes("://")) return { ok: true, value: { kind: "pull", path: v } };
  const push = pushTarget(v);
  return push.ok ? { ok: true, value: { kind: "push", ...push.value } } : push;
}
