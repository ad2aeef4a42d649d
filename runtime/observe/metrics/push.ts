/**
 * Pushing metrics to a Prometheus Pushgateway (`prometheus_metrics` set to a
 * URL, inventory §5). The compiler parses the URL (compiler/values/metrics_target.ts):
 * `user:pass@` becomes basic auth, the `interval` query parameter (humantime,
 * default 60 s) sets the period, rounded down to whole minutes as Pingap's
 * one-minute tick does (a rounded value is logged once). Here `$HOSTNAME` is
 * replaced by the host name. The query string stays on the URL, as Pingap sends
 * it. Differences: the body is the text exposition format (Pingap sends
 * protobuf; a Pushgateway takes both), and the first push happens one
 * interval after the start.
 *
 * A push that fails (network error, timeout of 60 s, status ≥ 400) is
 * logged and the timer goes on.
 *
 * @module
 */
import { type PushTarget, pushTarget } from "../../../compiler/mod.ts";

/** What a push needs from the metrics. */
export interface PushSource {
  /** The server name (pushes are shared per server and URL). */
  readonly server: string;
  /** The exposition text. */
  text(): Promise<string>;
}

/** A push target as the compiler parses it (`$HOSTNAME` not yet replaced). */
export type { PushTarget };

const MINUTE = 60_000;

/** The content type of the text exposition format. */
export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

/**
 * A parsed target with `$HOSTNAME` replaced by `host` (the host part lower-cased, as a URL's host is).
 *
 * @example Usage
 * ```ts
 * import { withHostname } from "./push.ts";
 * const t = withHostname({ url: "http://$HOSTNAME:9091/job/$HOSTNAME", intervalMs: 60_000 }, "Web-1");
 * if (t.url !== "http://web-1:9091/job/Web-1") throw new Error(t.url);
 * ```
 */
export function withHostname(target: PushTarget, host: string = hostname()): PushTarget {
  if (!target.url.includes("$HOSTNAME")) return target;
  const replaced = target.url.replaceAll("$HOSTNAME", host);
  let url = replaced;
  try {
    url = new URL(replaced).href;
  } catch {
    // A host name a URL cannot hold: sent as it is, and the push failure is logged.
  }
  return { ...target, url };
}

/**
 * Parses a push URL (the compiler's rules) and replaces `$HOSTNAME`. Throws
 * a `TypeError` for a URL `check` would refuse.
 *
 * @example Usage
 * ```ts
 * import { parsePushUrl } from "./push.ts";
 * const t = parsePushUrl("http://u:p@gw:9091/metrics/job/pingap/instance/$HOSTNAME?interval=2m30s", "web1");
 * if (t.url !== "http://gw:9091/metrics/job/pingap/instance/web1?interval=2m30s") throw new Error(t.url);
 * if (t.authorization !== "Basic " + btoa("u:p") || t.intervalMs !== 120_000) throw new Error();
 * ```
 */
export function parsePushUrl(raw: string, host: string = hostname()): PushTarget {
  const t = pushTarget(raw);
  if (!t.ok) throw new TypeError(`${t.message}${t.hint ? ` (${t.hint})` : ""}`);
  return withHostname(t.value, host);
}

/** Options of {@linkcode pushText}. */
export interface PushOptions {
  /** Time limit of one push, ms (default 60 000, as Pingap). */
  readonly timeoutMs?: number;
  /** Aborts the push. */
  readonly signal?: AbortSignal;
}

/** POSTs exposition text to a parsed target; throws on a network error, a timeout or a status ≥ 400. */
export async function pushText(target: PushTarget, text: string, options: PushOptions = {}): Promise<void> {
  const headers = new Headers({ "content-type": TEXT_CONTENT_TYPE });
  if (target.authorization) headers.set("authorization", target.authorization);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? MINUTE);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const res = await fetch(target.url, { method: "POST", headers, body: text, signal });
  await res.body?.cancel();
  if (res.status >= 400) throw new Error(`push to ${target.url} failed: status ${res.status}`);
}

/** A running push timer. */
export interface PushHandle {
  /** The URL pushed to (credentials removed). */
  readonly url: string;
  /** The period, ms. */
  readonly intervalMs: number;
  /** Pushes now (as the timer would: failures are logged, not thrown). */
  pushNow(): Promise<void>;
  /** Releases this handle; the timer stops (and a push in flight is aborted) when the last one is released. */
  stop(): Promise<void>;
}

/** Options of {@linkcode PushTimers.start}. */
export interface StartPushOptions {
  /** Overrides the period, ms (tests). */
  readonly intervalMs?: number;
  /** Where failures and the rounding notice go (default `console.error`). */
  readonly log?: (message: string) => void;
  /** Replaces `$HOSTNAME` (default `Deno.hostname()`). */
  readonly hostname?: string;
  /** Time limit of one push, ms (default 60 000). */
  readonly timeoutMs?: number;
}

interface Pusher {
  source: PushSource;
  refs: number;
  readonly target: PushTarget;
  readonly timer: ReturnType<typeof setInterval>;
  readonly abort: AbortController;
  inflight: Promise<void> | undefined;
  readonly log: (message: string) => void;
  readonly timeoutMs: number | undefined;
}

function tick(p: Pusher): Promise<void> {
  if (p.inflight) return p.inflight;
  const run = (async () => {
    try {
      const text = await p.source.text();
      await pushText(p.target, text, {
        signal: p.abort.signal,
        ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
      });
    } catch (e) {
      if (!p.abort.signal.aborted) {
        p.log(`server "${p.source.server}": push prometheus metrics fail: ${(e as Error).message ?? e}`);
      }
    } finally {
      p.inflight = undefined;
    }
  })();
  p.inflight = run;
  return run;
}

/** A proxy's push timers (in its `MetricsRegistries`), shared per server name and URL. */
export class PushTimers {
  readonly #pushers = new Map<string, Pusher>();

  /**
   * Starts pushing `source` to `push` (a target parsed by the compiler) every
   * interval. Pushes are shared per server name and URL and reference-counted,
   * so a reload that starts the same push before stopping the old plan's keeps
   * one timer (and its phase). The timer does not keep the process alive.
   */
  start(source: PushSource, push: PushTarget, options: StartPushOptions = {}): PushHandle {
    return startPush(this.#pushers, source, push, options);
  }

  /** How many timers run. */
  get size(): number {
    return this.#pushers.size;
  }
}

function startPush(
  pushers: Map<string, Pusher>,
  source: PushSource,
  push: PushTarget,
  options: StartPushOptions,
): PushHandle {
  const log = options.log ?? ((m: string) => console.error(m));
  const parsed = withHostname(push, options.hostname);
  const target = options.intervalMs !== undefined ? { ...parsed, intervalMs: options.intervalMs } : parsed;
  const key = `${source.server}\n${target.url}\n${target.intervalMs}`;
  let p = pushers.get(key);
  if (p) {
    p.refs++;
    p.source = source;
  } else {
    if (
      options.intervalMs === undefined && parsed.requestedMs !== undefined && parsed.requestedMs !== target.intervalMs
    ) {
      log(
        `server "${source.server}": prometheus push interval ${parsed.requestedMs}ms is rounded down to whole minutes: ` +
          `pushing every ${target.intervalMs / MINUTE}m`,
      );
    }
    const abort = new AbortController();
    const state: Pusher = {
      source,
      refs: 1,
      target,
      abort,
      inflight: undefined,
      log,
      timeoutMs: options.timeoutMs,
      timer: setInterval(() => void tick(state), target.intervalMs),
    };
    Deno.unrefTimer(state.timer as unknown as number);
    pushers.set(key, state);
    p = state;
  }
  const pusher = p;
  let stopped = false;
  return {
    url: target.url,
    intervalMs: target.intervalMs,
    pushNow: () => tick(pusher),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (--pusher.refs > 0) return;
      if (pushers.get(key) === pusher) pushers.delete(key);
      clearInterval(pusher.timer);
      pusher.abort.abort();
      await pusher.inflight;
    },
  };
}
