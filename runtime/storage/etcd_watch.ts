/**
 * Change delivery for a config kept in etcd: a watch on the `/<base>/`
 * prefix over etcd's JSON gateway (`/v3/watch`, one JSON object per line),
 * calling `onChange` (debounced) when a key under it is put or deleted.
 * The caller then re-reads and recompiles (an unchanged plan hash is
 * skipped there).
 *
 * Never throws into the caller. When the stream ends or fails (etcd went
 * away, a host died, auth was refused) it reconnects with backoff from
 * 0.5 s doubling to 60 s (reset by a watch etcd accepted), trying each host
 * in turn, and resumes from the last revision seen + 1, so changes made
 * while it was away are still delivered. If that revision was compacted
 * meanwhile, or no revision was known yet, it fires `onChange` once after
 * reconnecting (a full re-read covers whatever was missed).
 * `onChange` is not called for the watch's first connection: the caller
 * has just read the config (pass `afterRevision` to close that gap).
 *
 * A connection that dies silently (no FIN, e.g. a host that vanished) is
 * noticed by a liveness probe: while the stream is open, a tiny range
 * request every `probeIntervalMs` (default 30 s) must succeed, or the
 * stream is dropped and reopened.
 *
 * @module
 */
import { b64, prefixRangeEnd } from "./etcd_bytes.ts";
import { EtcdClient } from "./etcd_client.ts";
import { type EtcdConfig, parseEtcdUrl } from "./etcd_url.ts";

/** Options of {@linkcode watchEtcd}. */
export interface WatchEtcdOptions {
  /** Quiet time before `onChange` is called, ms (default 100). */
  debounceMs?: number;
  /** Longest a burst of changes delays `onChange`, ms (default 1000). */
  maxDelayMs?: number;
  /** First retry delay, ms (default 500); doubles per failure. */
  minBackoffMs?: number;
  /** Longest retry delay, ms (default 60 000). */
  maxBackoffMs?: number;
  /** Liveness probe interval while connected, ms (default 30 000; 0 disables). */
  probeIntervalMs?: number;
  /**
   * Watch from this revision + 1: the revision the config was read at
   * (`readEtcdSnapshot`), so nothing between that read and the watch is
   * missed. Without it the watch starts at etcd's current revision.
   */
  afterRevision?: number;
  /** Told about each failure and the delay before the next try (default: console.warn). */
  onError?: (error: Error, retryInMs: number) => void;
  /** Told when a watch is established (after a failure too). */
  onConnected?: (revision: number) => void;
}

/** A running watch. */
export interface EtcdWatch {
  /** Stops watching. Idempotent; resolves once the connection and timers are gone. */
  close(): Promise<void>;
  /** The last etcd revision seen (0 before the first answer). */
  readonly revision: number;
}

interface WatchResponse {
  header?: { revision?: string };
  created?: boolean;
  canceled?: boolean;
  cancel_reason?: string;
  compact_revision?: string;
  events?: { type?: string; kv?: { key?: string; mod_revision?: string } }[];
}

/** The stream ended or was refused; try again. */
class Retry extends Error {
  override name = "EtcdWatchError";
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Watches the config prefix of an `etcd://` URL. Invalid URLs are reported
 * through `onError` once and nothing is watched.
 *
 * @example Usage
 * ```ts ignore
 * import { watchEtcd } from "./etcd_watch.ts";
 * const watch = watchEtcd("etcd://127.0.0.1:2379/pingap", () => console.log("reload"));
 * // …
 * await watch.close();
 * ```
 */
export function watchEtcd(url: string, onChange: () => void, options: WatchEtcdOptions = {}): EtcdWatch {
  const debounceMs = options.debounceMs ?? 100;
  const maxDelayMs = Math.max(options.maxDelayMs ?? 1000, debounceMs);
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const probeInterval = options.probeIntervalMs ?? 30_000;
  const report = (e: Error, retryIn: number) => {
    try {
      (options.onError ?? ((err, ms) => console.warn(`etcd watch: ${err.message}; retrying in ${ms} ms`)))(e, retryIn);
    } catch { /* the reporter's problem */ }
  };
  const stop = new AbortController();
  let revision = options.afterRevision ?? 0;

  // Debounced, never-throwing delivery.
  let debounceTimer: ReturnType<typeof setTimeout> | undefined;
  let firstPending = 0;
  const fire = () => {
    debounceTimer = undefined;
    firstPending = 0;
    if (stop.signal.aborted) return;
    try {
      const r = onChange() as unknown;
      if (r instanceof Promise) r.catch((e) => report(e as Error, 0));
    } catch (e) {
      report(e instanceof Error ? e : new Error(String(e)), 0);
    }
  };
  const changed = () => {
    if (stop.signal.aborted) return;
    const now = Date.now();
    if (firstPending === 0) firstPending = now;
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(fire, Math.max(0, Math.min(debounceMs, firstPending + maxDelayMs - now)));
  };

  let config: EtcdConfig;
  try {
    config = parseEtcdUrl(url);
  } catch (e) {
    report(e as Error, -1);
    return { close: () => Promise.resolve(), revision: 0 };
  }
  const client = new EtcdClient(config);

  /** One watch connection; returns when it ends (always by throwing, unless stopped). */
  async function session(onEstablished: () => void): Promise<void> {
    const conn = new AbortController();
    const signal = AbortSignal.any([stop.signal, conn.signal]);
    let probeTimer: ReturnType<typeof setTimeout> | undefined;
    const probe = () => {
      probeTimer = setTimeout(async () => {
        try {
          await client.call("/kv/range", { key: b64(config.prefix), count_only: true }, signal, {
            sameHost: true,
          });
          if (!signal.aborted) probe();
        } catch (e) {
          if (!signal.aborted) conn.abort(new Retry(`liveness probe failed: ${(e as Error).message}`));
        }
      }, probeInterval);
    };
    client.resetAuth(); // a fresh token per connection: an old one may have expired while away
    try {
      const res = await client.stream("/watch", {
        create_request: {
          key: b64(config.prefix),
          range_end: prefixRangeEnd(config.prefix),
          ...(revision > 0 ? { start_revision: String(revision + 1) } : {}),
        },
      }, signal);
      if (!res.body) throw new Retry("watch answered without a body");
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let nl: number;
          while ((nl = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            let msg: { result?: WatchResponse; error?: { message?: string; grpc_code?: number } };
            try {
              msg = JSON.parse(line);
            } catch {
              throw new Retry(`unreadable watch message: ${line.slice(0, 200)}`);
            }
            if (msg.error) throw new Retry(`watch error: ${msg.error.message ?? JSON.stringify(msg.error)}`);
            const r = msg.result;
            if (!r) continue;
            if (r.compact_revision && Number(r.compact_revision) > 0) {
              // The revision to resume from is gone: watch from now on, re-read everything.
              revision = 0;
              throw new Retry(`revision compacted (at ${r.compact_revision}); watching from now`);
            }
            if (r.canceled) {
              throw new Retry(`watch canceled: ${r.cancel_reason ?? "no reason given"}`);
            }
            const headerRev = Number(r.header?.revision ?? 0);
            if (r.created) {
              if (revision === 0 && headerRev > 0) revision = headerRev;
              onEstablished();
              if (probeInterval > 0) probe();
              continue;
            }
            if (r.events?.length) {
              for (const ev of r.events) revision = Math.max(revision, Number(ev.kv?.mod_revision ?? 0));
              changed();
            } else if (headerRev > revision) {
              revision = headerRev; // progress notification
            }
          }
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      if (!stop.signal.aborted) throw new Retry("watch stream ended");
    } catch (e) {
      if (stop.signal.aborted) return;
      throw conn.signal.aborted ? conn.signal.reason : e;
    } finally {
      clearTimeout(probeTimer);
      conn.abort();
    }
  }

  const loop = (async () => {
    let backoff = minBackoff;
    let missed = options.afterRevision === undefined; // nothing known about what came before
    let failed = false;
    while (!stop.signal.aborted) {
      try {
        await session(() => {
          backoff = minBackoff;
          if (failed && missed) changed(); // a revision we cannot resume from: re-read
          failed = false;
          missed = false;
          try {
            options.onConnected?.(revision);
          } catch { /* ignore */ }
        });
      } catch (e) {
        if (stop.signal.aborted) break;
        failed = true;
        if (revision === 0) missed = true;
        report(e instanceof Error ? e : new Error(String(e)), backoff);
        await delay(backoff, stop.signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  })();

  let closing: Promise<void> | undefined;
  return {
    get revision() {
      return revision;
    },
    close() {
      closing ??= (async () => {
        stop.abort();
        clearTimeout(debounceTimer);
        await loop.catch(() => {});
      })();
      return closing;
    },
  };
}
