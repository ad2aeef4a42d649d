/**
 * `check`: the compiler as a command. Reads the config (file or
 * directory), compiles it exactly as the runtime does, and reports. Offline
 * and free of side effects; `live` adds DNS resolution of upstream hosts
 * and reading certificate files.
 *
 * @module
 */
import { type CompileResult, compileSources } from "./compile.ts";
import { diag, type Diagnostic, hasErrors } from "./diagnostic.ts";
import { ConfigReadError, readSources } from "./load.ts";
import type { Plan } from "./plan.ts";

/** Result of {@linkcode checkConfig}. */
export interface CheckResult extends CompileResult {
  /** 0 no error, 1 config errors, 2 I/O or usage error. */
  readonly exitCode: 0 | 1 | 2;
  /** Set when the config could not be read at all. */
  readonly readError?: string;
}

/** Options of {@linkcode checkConfig}. */
export interface CheckOptions {
  /** Also resolve upstream hosts and read certificate files. */
  live?: boolean;
}

/** Reads and compiles a config path. */
export async function checkConfig(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  let sources;
  try {
    sources = await readSources(path);
  } catch (e) {
    if (e instanceof ConfigReadError) {
      const cause = typeof e.cause === "string" ? ` (${e.cause})` : "";
      return { exitCode: 2, diagnostics: [], readError: e.message + cause };
    }
    throw e;
  }
  const result = compileSources(sources);
  let diagnostics = result.diagnostics;
  if (options.live && result.plan) diagnostics = [...diagnostics, ...await liveChecks(result.plan)];
  const ok = !hasErrors(diagnostics);
  return { ...(ok && result.plan ? { plan: result.plan } : {}), diagnostics, exitCode: ok ? 0 : 1 };
}

/** DNS resolution of upstream hosts (skipped for docker/transparent). */
async function liveChecks(plan: Plan): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  await Promise.all(
    plan.upstreams.flatMap((u) =>
      u.discovery === "docker" || u.discovery === "transparent" ? [] : u.backends.map(async (b, i) => {
        if (b.isIp || b.host === "localhost") return;
        const results = await Promise.allSettled([Deno.resolveDns(b.host, "A"), Deno.resolveDns(b.host, "AAAA")]);
        if (results.every((r) => r.status === "rejected" || r.value.length === 0)) {
          out.push(
            diag("dns-lookup", ["upstreams", u.name, "addrs", i], `Host "${b.host}" does not resolve`, {
              hint: "Check the name, or the resolver",
            }),
          );
        }
      })
    ),
  );
  return out;
}
