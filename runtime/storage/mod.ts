/**
 * Config storage: where the compiler's texts come from and go to. Reading a
 * `.toml`, `.hcl` or `.kdl` file, a directory of them or etcd (HCL and KDL
 * converted to TOML); writing a config as HCL or KDL; resolving `$ENV:`/`$FILE:`
 * references; `check` with its `--live` reads (certificate files, DNS);
 * watching a file, a directory or etcd for `--autoreload`; splitting a config
 * into one document per item, and writing it to files or etcd (`--sync`).
 * The compiler stays pure: it gets the texts from here.
 *
 * This file is a door: it only re-exports.
 *
 * @module
 */
export { readSources } from "./read_sources.ts";
export { checkConfig, type CheckOptions, type CheckResult } from "./check_config.ts";
export { loadCertificates, type LoadedCertificates } from "./certificates.ts";
export { resolveUpstreamHosts } from "./resolve_hosts.ts";
export { invalidItemName, type ItemDocument, splitRaw, splitSources } from "./split.ts";
export { EtcdClient, EtcdError, type RawKv, type ResponseHeader } from "./etcd_client.ts";
export { b64, prefixRangeEnd, unb64 } from "./etcd_bytes.ts";
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  type EtcdConfig,
  isEtcdUrl,
  parseEtcdUrl,
  redact,
} from "./etcd_url.ts";
export {
  type EtcdSnapshot,
  keyFile,
  type ReadEtcdOptions,
  readEtcdSnapshot,
  readEtcdSources,
  syncSourcesToEtcd,
  type WriteEtcdOptions,
  writeEtcdSources,
} from "./etcd_sources.ts";
export { systemRefResolver } from "./config_refs.ts";
export { watchConfig } from "./config_watch.ts";
export { watchEtcd } from "./etcd_watch.ts";
export { syncConfig } from "./sync.ts";
export { exportConfig } from "./config_export.ts";
export { toHcl } from "./hcl_write.ts";
export { toKdl } from "./kdl_write.ts";
