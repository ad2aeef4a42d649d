/**
 * Certificate files: every certificate of a Plan with material (a file,
 * PEM text or base64 PEM) read and inspected by the compiler's
 * `inspectCertificate`. Used by `check --live` and by the runtime at start
 * and on reload.
 *
 * @module
 */
import {
  diag,
  type Diagnostic,
  inspectCertificate,
  type InspectedCertificate,
  material,
  type Plan,
} from "../../compiler/mod.ts";

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
 */
export async function loadCertificates(plan: Plan, now: number = Date.now()): Promise<LoadedCertificates> {
  const diagnostics: Diagnostic[] = [];
  const certificates: InspectedCertificate[] = [];
  for (const c of plan.certificates) {
    const { tlsCert: tls_cert, tlsKey: tls_key, tlsChain: tls_chain } = c;
    if (tls_cert === undefined || tls_key === undefined) continue;
    const path = ["certificates", c.name];
    const cert = await readMaterial(tls_cert, [...path, "tls_cert"], diagnostics);
    const key = await readMaterial(tls_key, [...path, "tls_key"], diagnostics);
    const chain = tls_chain === undefined
      ? undefined
      : await readMaterial(tls_chain, [...path, "tls_chain"], diagnostics);
    if (cert === undefined || key === undefined) continue;
    const config = {
      ...(c.domains ? { domains: c.domains } : {}),
      is_default: c.isDefault,
      is_ca: c.isCa,
      ...(c.acme ? { acme: c.acme } : {}),
      buffer_days: c.bufferDays,
    };
    const r = inspectCertificate(c.name, config, { cert, key, chain }, now);
    diagnostics.push(...r.diagnostics);
    if (r.certificate) certificates.push(r.certificate);
  }
  return { diagnostics, certificates };
}
