/**
 * Versions of each item, kept by the admin API for every storage (Pingap
 * keeps them for etcd only): each write records the value written, who
 * wrote it and when; the first write of an item records the value it
 * replaced too. At most {@linkcode HISTORY_LIMIT} per item, newest first.
 *
 * A file or directory config keeps them beside it, in `<conf>.history/`
 * (JSON, outside the `*.toml` files the config is read from); etcd under
 * `/<base>-history/` (outside the prefix that is read and watched).
 *
 * @module
 */
import { EtcdClient, isEtcdUrl, parseEtcdUrl, unb64 } from "../storage/mod.ts";
import { b64 } from "../storage/mod.ts";

/** Versions kept per item (as Pingap). */
export const HISTORY_LIMIT = 10;

/** One version of an item. */
export interface HistoryEntry {
  /** Unique within the item. */
  readonly id: string;
  /** Unix seconds (Pingap's field). */
  readonly created_at: number;
  /** Who wrote it (empty for the value found before the first admin write). */
  readonly user: string;
  /** The item's table, or null when the write deleted it. */
  readonly data: Record<string, unknown> | null;
}

function fileOf(conf: string, section: string, name: string): string {
  return `${conf.replace(/\/+$/, "")}.history/${section}/${encodeURIComponent(name)}.json`;
}

function etcdKey(conf: string, section: string, name: string): string {
  const prefix = parseEtcdUrl(conf).prefix.replace(/\/+$/, "");
  return `${prefix}-history/${section}/${encodeURIComponent(name)}.json`;
}

/** The versions of an item, newest first (empty when none were kept). */
export async function readHistory(conf: string, section: string, name: string): Promise<HistoryEntry[]> {
  let text: string | undefined;
  if (isEtcdUrl(conf)) {
    const key = etcdKey(conf, section, name);
    const { kvs } = await new EtcdClient(parseEtcdUrl(conf)).rangePrefix(key);
    const kv = kvs.find((k) => new TextDecoder().decode(unb64(k.key)) === key);
    text = kv ? new TextDecoder().decode(unb64(kv.value ?? "")) : undefined;
  } else {
    try {
      text = await Deno.readTextFile(fileOf(conf, section, name));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  if (text === undefined) return [];
  try {
    const list = JSON.parse(text);
    return Array.isArray(list) ? list as HistoryEntry[] : [];
  } catch {
    return [];
  }
}

async function writeHistory(conf: string, section: string, name: string, list: HistoryEntry[]): Promise<void> {
  const text = JSON.stringify(list, null, 1);
  if (isEtcdUrl(conf)) {
    const key = etcdKey(conf, section, name);
    await new EtcdClient(parseEtcdUrl(conf)).call("/kv/put", { key: b64(key), value: b64(text) });
    return;
  }
  const file = fileOf(conf, section, name);
  await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, file);
}

let sequence = 0;

function entry(user: string, data: Record<string, unknown> | null, now: number): HistoryEntry {
  return { id: `${now}-${++sequence}`, created_at: Math.floor(now / 1000), user, data };
}

/** Records a write of an item: `before` (the stored value, kept once) and `after` (null: deleted) by `user`. */
export async function recordHistory(
  conf: string,
  section: string,
  name: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | null,
  user: string,
  now = Date.now(),
): Promise<void> {
  const list = await readHistory(conf, section, name);
  if (list.length === 0 && before !== undefined) list.unshift(entry("", before, now));
  list.unshift(entry(user, after, now));
  await writeHistory(conf, section, name, list.slice(0, HISTORY_LIMIT));
}
