/**
 * The config in etcd: every key under `/<base>/` read as one snapshot of
 * TOML sources (`basic.toml`, `<section>/<name>.toml`), and items written
 * back in transactions for `--sync`.
 *
 * @module
 */
import { ConfigReadError, type Source } from "../../compiler/mod.ts";
import { b64, unb64 } from "./etcd_bytes.ts";
import { EtcdClient } from "./etcd_client.ts";
import { type EtcdConfig, parseEtcdUrl, redact } from "./etcd_url.ts";
import { type ItemDocument, splitSources } from "./split.ts";

/** etcd's default `--max-txn-ops`. */
const TXN_MAX_OPS = 128;
/** Below etcd's default 1.5 MiB request limit, base64 and JSON included. */
const TXN_MAX_BYTES = 1_000_000;

function readError(config: EtcdConfig, what: string, e: unknown): ConfigReadError {
  const message = e instanceof Error ? e.message : String(e);
  return new ConfigReadError(`Cannot ${what} etcd "${redact(config.url)}": ${message}`, { cause: e });
}

/** The name a key is reported under: `etcd://<first host><key>`. */
export function keyFile(config: EtcdConfig, key: string): string {
  return `etcd://${config.hosts[0]}${key.startsWith("/") ? "" : "/"}${key}`;
}

/** What {@linkcode readEtcdSnapshot} returns. */
export interface EtcdSnapshot {
  readonly sources: Source[];
  /** The etcd revision the sources were read at (watch from `revision + 1`). */
  readonly revision: number;
}

/** Options of {@linkcode readEtcdSources}. */
export interface ReadEtcdOptions {
  /** Return no sources instead of failing when the prefix holds no key. */
  allowEmpty?: boolean;
  signal?: AbortSignal;
}

/**
 * Reads every key under `/<base>/` (sorted by key) as {@linkcode Source}s
 * named `etcd://<first host>/<key>`, with the revision they were read at.
 */
export async function readEtcdSnapshot(url: string, options: ReadEtcdOptions = {}): Promise<EtcdSnapshot> {
  const config = parseEtcdUrl(url);
  let r;
  try {
    r = await new EtcdClient(config).rangePrefix(config.prefix, options.signal);
  } catch (e) {
    throw readError(config, "read", e);
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const sources: Source[] = [];
  for (const kv of r.kvs) {
    const key = new TextDecoder().decode(unb64(kv.key));
    const file = keyFile(config, key);
    try {
      sources.push({ file, text: decoder.decode(unb64(kv.value ?? "")) });
    } catch {
      throw new ConfigReadError(`Cannot read "${file}": the value is not UTF-8 text`);
    }
  }
  if (sources.length === 0 && !options.allowEmpty) {
    throw new ConfigReadError(`etcd "${redact(url)}" holds no key under "${config.prefix}"`, {
      cause: `expected ${config.prefix}basic.toml and ${config.prefix}<section>/<name>.toml`,
    });
  }
  return { sources, revision: r.revision };
}

/**
 * Reads the config stored in etcd. Throws {@linkcode ConfigReadError} when
 * etcd cannot be reached, refuses (auth, permission), or holds nothing.
 */
export async function readEtcdSources(url: string, options: ReadEtcdOptions = {}): Promise<Source[]> {
  return (await readEtcdSnapshot(url, options)).sources;
}

/** Options of {@linkcode writeEtcdSources}. */
export interface WriteEtcdOptions {
  /** Also delete keys under the prefix that `items` does not hold. */
  prune?: boolean;
  signal?: AbortSignal;
}

/**
 * Writes items (`basic.toml`, `<section>/<name>.toml`) under `/<base>/`,
 * for `--sync`. The puts go in transactions of up to 128 keys (one
 * revision, so a watcher reloads once for a small config). Throws
 * {@linkcode ConfigReadError} on failure. Returns the keys written.
 */
export async function writeEtcdSources(
  url: string,
  items: readonly ItemDocument[],
  options: WriteEtcdOptions = {},
): Promise<string[]> {
  const config = parseEtcdUrl(url);
  const client = new EtcdClient(config);
  const keys = items.map((item) => config.prefix + item.key.replace(/^\/+/, ""));
  const ops: { key: string; value?: string }[] = items.map((item, i) => ({ key: keys[i]!, value: item.text }));
  try {
    if (options.prune) {
      const wanted = new Set(keys);
      const { kvs } = await client.rangePrefix(config.prefix, options.signal);
      for (const kv of kvs) {
        const key = new TextDecoder().decode(unb64(kv.key));
        if (!wanted.has(key)) ops.push({ key });
      }
    }
    let batch: unknown[] = [];
    let bytes = 0;
    const flush = async () => {
      if (!batch.length) return;
      await client.call("/kv/txn", { success: batch }, options.signal);
      batch = [];
      bytes = 0;
    };
    for (const op of ops) {
      const key = b64(op.key);
      const request = op.value === undefined
        ? { request_delete_range: { key } }
        : { request_put: { key, value: b64(op.value) } };
      const size = key.length + (op.value?.length ?? 0) * 1.4 + 64;
      if (batch.length >= TXN_MAX_OPS || (batch.length && bytes + size > TXN_MAX_BYTES)) await flush();
      batch.push(request);
      bytes += size;
    }
    await flush();
  } catch (e) {
    throw readError(config, "write to", e);
  }
  return keys;
}

/**
 * `--sync` to etcd: splits TOML sources (any layout) into items and writes
 * them. See {@linkcode writeEtcdSources}.
 */
export function syncSourcesToEtcd(
  url: string,
  sources: readonly Source[],
  options: WriteEtcdOptions = {},
): Promise<string[]> {
  return writeEtcdSources(url, splitSources(sources), options);
}
