/**
 * `check`: the compiler as a command. Reads the config (file or
 * directory), compiles it exactly as the runtime does, and reports. Offline
 * and free of side effects; `live` adds DNS resolution of upstream hosts
 * and reading certificate files.
 *
 * @module
 */
import { attachOrigins, type CompileResult, compileSources, sortDiagnostics } from "./compile.ts";
import { material } from "./certificate_material.ts";
import { inspectCertificate, type InspectedCertificate } from "./certificate_inspect.ts";
import { diag, type Diagnostic, hasErrors } from "./diagnostic.ts";
import { ConfigReadError, readSources, type Source } from "./load.ts";
import type { Plan } from "./plan.ts";
import { systemRefResolver } from "../runtime/config_refs.ts";

/** Result of {@linkcode checkConfig}. */
export interface CheckResult extends CompileResult {
  /** 0 no error, 1 config errors, 2 I/O or usage error. */
  readonly exitCode: 0 | 1 | 2;
  /** Set when the config could not be read at all. */
  readonly readError?: string;
  /** The sources that were compiled (absent with `readError`). */
  readonly sources?: readonly Source[];
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
      return { exitCode: 2, diagnostics: [], origins: new Map(), readError: e.message + cause };
    }
    throw e;
  }
  // `$ENV:` / `$FILE:` references are read here, at every check, start and reload.
  const result = compileSources(sources, { resolveRefs: systemRefResolver() });
  let diagnostics = result.diagnostics;
  if (options.live && result.plan) {
    const live = attachOrigins(await liveChecks(result.plan), result.origins, sources);
    diagnostics = sortDiagnostics([...diagnostics, ...live]);
  }
  const ok = !hasErrors(diagnostics);
  return {
    ...(ok && result.plan ? { plan: result.plan } : {}),
    diagnostics,
    origins: result.origins,
    sources,
    exitCode: ok ? 0 : 1,
  };
}

async function readMaterial(value: string, path: (string | number)[], out: Diagnostic[]): Promise<string | undefined> {
  const m = material(value, Deno.env.get("HOME") ?? "");
  if (m.kind === "pem") return m.pem;
  try {
    return await Deno.readTextFile(m.path);
  } catch (e) {
    out.push(
      diag("certificate-file", path, `Cannot read "${m.path}": ${(e as Error).message}`, {
        hint: "Give a readable file, PEM text or base64 PEM",
      }),
    );
    return undefined;
  }
}

/** What {@linkcode loadCertificates} returns. */
export interface LoadedCertificates {
  readonly diagnostics: Diagnostic[];
  /** The certificates that parsed (those with errors too: the caller decides by the diagnostics). */
  readonly certificates: InspectedCertificate[];
}

/**
 * Reads every certificate with material (file, PEM or base64 PEM) and
 * inspects it: parseable, key matches, valid now, `domains` covered.
 * Used by `check --live` and by the runtime at start and on reload.
 */
export async function loadCertificates(plan: Plan, now: number = Date.now()): Promise<LoadedCertificates> {
  const diagnostics: Diagnostic[] = [];
  const certificates: InspectedCertificate[] = [];
  for (const c of plan.certificates) {
    const { tls_cert, tls_key, tls_chain } = c.config;
    if (tls_cert === undefined || tls_key === undefined) continue;
    const path = ["certificates", c.name];
    const cert = await readMaterial(tls_cert, [...path, "tls_cert"], diagnostics);
    const key = await readMaterial(tls_key, [...path, "tls_key"], diagnostics);
    const chain = tls_chain === undefined
      ? undefined
      : await readMaterial(tls_chain, [...path, "tls_chain"], diagnostics);
    if (cert === undefined || key === undefined) continue;
    const r = inspectCertificate(c.name, c.config, { cert, key, chain }, now);
    diagnostics.push(...r.diagnostics);
    if (r.certificate) certificates.push(r.certificate);
  }
  return { diagnostics, certificates };
}

/** DNS resolution of upstream hosts (skipped for docker/transparent), and certificates. */
async function liveChecks(plan: Plan): Promise<Diagnostic[]> {
  const out: Diagnostic[] = (await loadCertificates(plan)).diagnostics;
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
