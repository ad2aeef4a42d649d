/**
 * Where ACME state is kept: the account key and each issued certificate,
 * in the config's own storage, so a restart reuses them instead of
 * ordering again.
 *
 * - A config file `conf/pingap.toml` keeps them in the directory
 *   `conf/pingap-acme/`; a config directory `conf/` in `conf-acme/` beside
 *   it (outside the watched tree, and not `*.toml`, so never read as config).
 * - A config in etcd (`etcd://host:2379/pingap`) keeps them under the keys
 *   `/pingap-acme/…`, outside the `/pingap/` prefix the config is read and
 *   watched from, so several proxies sharing the config share the
 *   certificates too.
 *
 * Keys: `account.key.pem`, `certificates/<name>.json`.
 *
 * @module
 */
import { b64, EtcdClient, isEtcdUrl, parseEtcdUrl, redact, unb64 } from "../storage/mod.ts";

/** A small key-value store for ACME state. */
export interface AcmeStorage {
  /** Where it is, for logs and docs (a directory path or an etcd URL with its key prefix). */
  readonly where: string;
  /** The value of `key`, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  /** Writes `key` (atomically for files; private: mode 0600). */
  put(key: string, value: string): Promise<void>;
}

/** A directory of files; keys are relative paths. */
export function fileStorage(dir: string): AcmeStorage {
  const path = (key: string) => `${dir}/${key}`;
  return {
    where: dir,
    async get(key) {
      try {
        return await Deno.readTextFile(path(key));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
    },
    async put(key, value) {
      const file = path(key);
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${Deno.pid}.tmp`;
      await Deno.writeTextFile(tmp, value, { mode: 0o600 });
      await Deno.rename(tmp, file);
    },
  };
}

/** Keys under `<prefix>` of an etcd (JSON gateway); `prefix` ends with `/`. */
export function etcdStorage(url: string, prefix: string): AcmeStorage {
  const client = new EtcdClient(parseEtcdUrl(url));
  return {
    where: `${redact(url)} keys ${prefix}`,
    async get(key) {
      const r = await client.call<{ kvs?: { value?: string }[] }>("/kv/range", { key: b64(prefix + key) });
      const v = r.kvs?.[0]?.value;
      return v === undefined ? undefined : new TextDecoder().decode(unb64(v));
    },
    async put(key, value) {
      await client.call("/kv/put", { key: b64(prefix + key), value: b64(value) });
    },
  };
}

/**
 * The storage that goes with a config location (the `-c` value). Throws
 * `TypeError` for an etcd URL without a base path: every key would be
 * under the config's prefix.
 *
 * @example Usage
 * ```ts
 * import { acmeStorageFor } from "./storage.ts";
 * if (acmeStorageFor("conf/pingap.toml").where !== "conf/pingap-acme") throw new Error();
 * if (acmeStorageFor("conf/").where !== "conf-acme") throw new Error();
 * ```
 */
export function acmeStorageFor(conf: string): AcmeStorage {
  if (isEtcdUrl(conf)) {
    const config = parseEtcdUrl(conf);
    if (config.base === "") {
      throw new TypeError(`Cannot keep ACME state in etcd "${redact(conf)}": give the config a base path (/pingap)`);
    }
    return etcdStorage(conf, `${config.base}-acme/`);
  }
  const trimmed = conf.replace(/\/+$/, "") || "/";
  return fileStorage(trimmed.replace(/\.(toml|hcl|kdl)$/i, "") + "-acme");
}
