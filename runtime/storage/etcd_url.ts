/**
 * The `etcd://` URL of a config source (`-c`, `--sync`, ACME storage), and
 * what it says. etcd is read like a directory in the MultiByItem layout:
 * `/<base>/basic.toml` and `/<base>/<section>/<name>.toml`, each value a
 * TOML document with its section wrapper.
 *
 * URL: `etcd://host1:2379,host2:2379/<base>?timeout=10s&connect_timeout=5s&user=u&password=p`.
 *
 * - Hosts are tried in turn (see `etcd_client.ts`).
 * - `timeout` (default 10 s) bounds a whole request; `connect_timeout`
 *   (default 5 s) bounds the wait for the answer's headers. Both take
 *   Pingap durations (`500ms`, `1m30s`).
 * - `user` and `password` (both non-empty, as in Pingap) authenticate.
 * - `enable_history` is accepted and ignored: nothing here writes history
 *   (Pingap copies the previous value to `/<base>-history/…` before a put).
 *   Other parameters are ignored and listed in {@linkcode EtcdConfig.notes}.
 *
 * The prefix read and watched is `/<base>/` (with the slash): Pingap's
 * older code read `/<base>`, which also matched `/<base>-history/…` and
 * `/<base>x/…`.
 *
 * @module
 */
import { ConfigReadError, parseBoundedDuration } from "../../compiler/mod.ts";

/** A parsed `etcd://` URL. */
export interface EtcdConfig {
  /** The URL as given. */
  readonly url: string;
  /** `host:port` as written. */
  readonly hosts: readonly string[];
  /** `http://host:port` for each host. */
  readonly endpoints: readonly string[];
  /** `/<base>` without a trailing slash (`""` for the root). */
  readonly base: string;
  /** `/<base>/`: every key of the config starts with it. */
  readonly prefix: string;
  /** Whole-request limit, ms. */
  readonly timeoutMs: number;
  /** Limit for an answer's headers, ms. */
  readonly connectTimeoutMs: number;
  readonly user?: string;
  readonly password?: string;
  /** Accepted, not acted on. */
  readonly enableHistory: boolean;
  /** Parameters that were ignored, and why. */
  readonly notes: readonly string[];
}

/** Pingap's defaults. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Pingap's defaults. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Whether a `-c` value names etcd. */
export function isEtcdUrl(value: string): boolean {
  return value.startsWith("etcd://");
}

function duration(url: string, key: string, value: string): number {
  const ms = parseBoundedDuration(value);
  if (typeof ms === "string") throw new ConfigReadError(`etcd url "${redact(url)}": ${key}: ${ms}`);
  return ms;
}

/** The URL with its password replaced by `***`, for messages. */
export function redact(url: string): string {
  return url.replace(/([?&]password=)[^&]*/g, "$1***");
}

/**
 * Parses an `etcd://` URL. Throws {@linkcode ConfigReadError} when it names
 * no host or a duration does not parse.
 *
 * @example Usage
 * ```ts
 * import { parseEtcdUrl } from "./etcd_url.ts";
 * const c = parseEtcdUrl("etcd://127.0.0.1:2379/pingap?timeout=10s&connect_timeout=5s&user=abc&password=pwd");
 * if (c.timeoutMs !== 10_000 || c.connectTimeoutMs !== 5_000 || c.user !== "abc" || c.password !== "pwd") {
 *   throw new Error();
 * }
 * if (c.prefix !== "/pingap/") throw new Error();
 * ```
 */
export function parseEtcdUrl(url: string): EtcdConfig {
  if (!isEtcdUrl(url)) throw new ConfigReadError(`Not an etcd url: "${redact(url)}"`);
  const rest = url.slice("etcd://".length);
  const slash = rest.search(/[/?]/);
  const hostPart = slash < 0 ? rest : rest.slice(0, slash);
  const pathQuery = slash < 0 ? "" : rest.slice(slash);
  const q = pathQuery.indexOf("?");
  const path = q < 0 ? pathQuery : pathQuery.slice(0, q);
  const query = q < 0 ? "" : pathQuery.slice(q + 1);
  const hosts = hostPart.split(",").map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0) throw new ConfigReadError(`etcd url "${redact(url)}" names no host`);
  const endpoints = hosts.map((h) => `http://${h}`);
  for (const e of endpoints) {
    try {
      new URL(e);
    } catch {
      throw new ConfigReadError(`etcd url "${redact(url)}": bad host "${e}"`);
    }
  }
  const base = ("/" + path.replace(/^\/+/, "")).replace(/\/+$/, "");
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  let user = "";
  let password = "";
  let enableHistory = false;
  const notes: string[] = [];
  for (const [key, value] of new URLSearchParams(query)) {
    switch (key) {
      case "timeout":
        timeoutMs = duration(url, key, value);
        break;
      case "connect_timeout":
        connectTimeoutMs = duration(url, key, value);
        break;
      case "user":
        user = value;
        break;
      case "password":
        password = value;
        break;
      case "enable_history":
        enableHistory = value === "true";
        if (enableHistory) notes.push("enable_history: config history is not written to etcd (ignored)");
        break;
      default:
        notes.push(`${key}: unknown etcd url parameter (ignored)`);
    }
  }
  const auth = user !== "" && password !== "";
  if (!auth && (user !== "" || password !== "")) notes.push("user and password must both be set to authenticate");
  return {
    url,
    hosts,
    endpoints,
    base,
    prefix: base + "/",
    timeoutMs,
    connectTimeoutMs: Math.min(connectTimeoutMs, timeoutMs),
    ...(auth ? { user, password } : {}),
    enableHistory,
    notes,
  };
}
