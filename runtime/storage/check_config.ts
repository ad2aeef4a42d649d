/**
 * `check`: the compiler as a command. Reads the config (TOML, HCL or KDL
 * file, directory or etcd), compiles it exactly as the runtime does, and
 * reports. Offline and free of side effects; `live` adds DNS resolution of
 * upstream hosts, reading certificate files and reading `geo_restriction`
 * databases.
 *
 * @module
 */
import {
  type CheckResult,
  checkSources,
  type CompileOptions,
  ConfigReadError,
  readErrorResult,
  withDiagnostics,
} from "../../compiler/mod.ts";
import { systemRefResolver } from "./config_refs.ts";
import { loadCertificates } from "./certificates.ts";
import { remapConverted } from "./converted_source.ts";
import { readSources } from "./read_sources.ts";
import { resolveUpstreamHosts } from "./resolve_hosts.ts";
import { checkGeoDatabases } from "./geo_databases.ts";
import { checkErrorPageFiles } from "./error_page_files.ts";

export type { CheckResult };

/** Options of {@linkcode checkConfig}. */
export interface CheckOptions {
  /** Also resolve upstream hosts and read certificate files. */
  live?: boolean;
  /** The command line's additions to the config (`--admin`), as the compiler's `amend`. */
  amend?: CompileOptions["amend"];
}

/** Reads and compiles a config path. */
export async function checkConfig(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  let sources;
  try {
    sources = await readSources(path);
  } catch (e) {
    if (e instanceof ConfigReadError) return readErrorResult(e);
    throw e;
  }
  // `$ENV:` / `$FILE:` references are read here, at every check, start and reload.
  // HCL and KDL files were compiled as TOML: their diagnostics are moved back to the original lines.
  const result = remapConverted(
    checkSources(sources, {
      resolveRefs: systemRefResolver(),
      ...(options.amend ? { amend: options.amend } : {}),
    }),
    sources,
  );
  if (!options.live || !result.plan) return result;
  // DNS resolution of upstream hosts (skipped for docker/transparent), certificates, and GeoIP databases.
  const live = [
    ...(await loadCertificates(result.plan)).diagnostics,
    ...await resolveUpstreamHosts(result.plan),
    ...checkGeoDatabases(result.plan),
    ...checkErrorPageFiles(result.plan),
  ];
  return withDiagnostics(result, live);
}
