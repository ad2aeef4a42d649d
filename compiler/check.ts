/**
 * `check`: the compiler as a command. Reads the config (file or
 * directory), compiles it exactly as the runtime does, and reports. Offline
 * and free of side effects; `live` adds DNS resolution of upstream hosts
 * and reading certificate files.
 *
 * @module
 */
import { attachOrigins, type CompileResult, compileSources, sortDiagnostics } from "./compile.ts";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { material } from "./certificate_material.ts";
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
      return { exitCode: 2, diagnostics: [], origins: new Map(), readError: e.message + cause };
    }
    throw e;
  }
  const result = compileSources(sources);
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

/** Loads certificates: parseable, key matches, currently valid. */
async function certificateChecks(plan: Plan): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const c of plan.certificates) {
    const { tls_cert, tls_key } = c.config;
    if (tls_cert === undefined || tls_key === undefined) continue;
    const path = ["certificates", c.name];
    const certPem = await readMaterial(tls_cert, [...path, "tls_cert"], out);
    const keyPem = await readMaterial(tls_key, [...path, "tls_key"], out);
    if (certPem === undefined || keyPem === undefined) continue;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (e) {
      out.push(
        diag(
          "certificate-invalid",
          [...path, "tls_cert"],
          `Certificate "${c.name}" cannot be parsed: ${(e as Error).message}`,
        ),
      );
      continue;
    }
    try {
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
        out.push(
          diag(
            "certificate-key-mismatch",
            [...path, "tls_key"],
            `Key of certificate "${c.name}" does not match the certificate`,
            { hint: "Give the key the certificate was issued for" },
          ),
        );
      }
    } catch (e) {
      out.push(
        diag(
          "certificate-invalid",
          [...path, "tls_key"],
          `Key of certificate "${c.name}" cannot be parsed: ${(e as Error).message}`,
        ),
      );
    }
    const now = Date.now();
    if (Date.parse(cert.validTo) < now) {
      out.push(
        diag(
          "certificate-expired",
          [...path, "tls_cert"],
          `Certificate "${c.name}" expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}`,
          { hint: "Renew it" },
        ),
      );
    } else if (Date.parse(cert.validFrom) > now) {
      out.push(
        diag(
          "certificate-not-yet-valid",
          [...path, "tls_cert"],
          `Certificate "${c.name}" is not valid before ${new Date(cert.validFrom).toISOString().slice(0, 10)}`,
        ),
      );
    }
  }
  return out;
}

/** DNS resolution of upstream hosts (skipped for docker/transparent), and certificates. */
async function liveChecks(plan: Plan): Promise<Diagnostic[]> {
  const out: Diagnostic[] = await certificateChecks(plan);
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
