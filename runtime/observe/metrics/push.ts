/**
 * Pushing metrics to a Prometheus Pushgateway (`prometheus_metrics` set to a
 * URL, inventory §5): `$HOSTNAME` is replaced by the host name, `user:pass@`
 * becomes basic auth, the `interval` query parameter (humantime, default
 * 60 s) sets the period. As in Pingap the push runs on a one-minute tick, so
 * the interval is rounded down to whole minutes, at least one (a rounded
 * value is logged once). The query string stays on the URL, as Pingap sends
 * it. Differences: the body is the text exposition format (Pingap sends
 * protobuf; a Pushgateway takes both), and the first push happens one
 * interval after the start.
 *
 * A push that fails (network error, timeout of 60 s, status ≥ 400) is
 * logged and the timer goes on.
 *
 * @module
 */
import { parseDuration } from "../../../compiler/mod.ts";

/** What a push needs from the metrics. */
export interface PushSource {
  /** The server name (pushes are shared per server and URL). */
  readonly server: string;
  /** The exposition text. */
  text(): Promise<string>;
}

/** A parsed push URL. */
export interface PushTarget {
  /** Where to POST: credentials removed, `$HOSTNAME` replaced, query kept. */
  readonly url: string;
  /** `Basic …` when the URL had user info. */
  readonly authorization?: string;
  /** The period, ms: whole minutes, at least one. */
  readonly intervalMs: number;
  /** The `interval` parameter as given, ms, when it parsed. */
  readonly requestedMs?: number;
}

const MINUTE = 60_000;

/** The content type of the text exposition format. */
export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function base64(text: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

/**
 * Parses a push URL. Throws a `TypeError` for a URL that does not parse.
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
  const u = new URL(raw.replaceAll("$HOSTNAME", host));
  let authorization: string | undefined;
  if (u.username !== "" || u.password !== "") {
    authorization = `Basic ${base64(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`)}`;
    u.username = "";
    u.password = "";
  }
  let requestedMs: number | undefined;
  const param = u.searchParams.get("interval");
  if (param !== null) {
    const ms = parseDuration(param);
    if (typeof ms === "number") requestedMs = ms;
  }
  const intervalMs = Math.max(1, Math.floor((requestedMs ?? MINUTE) / MINUTE)) * MINUTE;
  return {
    url: u.href,
    ...(authorization ? { authorization } : {}),
    intervalMs,
    ...(requestedMs !== undefined ? { requestedMs } : {}),
  };
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
   * Starts pushing `source` to `url` every interval. Pushes are shared per
   * server name and URL and reference-counted, so a reload that starts the
   * same push before stopping the old plan's keeps one timer (and its phase).
   * The timer does not keep the process alive.
   */
  start(source: PushSource, url: string, options: StartPushOptions = {}): PushHandle {
    return startPush(this.#pushers, source, url, options);
  }

  /** How many timers run. */
  get size(): number {
    return this.#pushers.size;
  }
}

function startPush(
  pushers: Map<string, Pusher>,
  source: PushSource,
  url: string,
  options: StartPushOptions,
): PushHandle {
  const log = options.log ?? ((m: string) => console.error(m));
  const parsed = parsePushUrl(url, options.hostname);
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
