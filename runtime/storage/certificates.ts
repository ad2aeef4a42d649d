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
  inspectClientCa,
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
  /** `tls_client_ca` of each TLS server that sets one and whose CA parsed: server name → PEM. */
  readonly clientCas: Map<string, string>;
}

/**
 * Reads every certificate with material (file, PEM or base64 PEM) and
 * inspects it: parseable, key matches, valid now, `domains` covered; and
 * every server's `tls_client_ca` (at least one PEM certificate, each parses).
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
  const clientCas = new Map<string, string>();
  for (const sp of plan.servers) {
    if (sp.tlsClientCa === undefined) continue;
    const path = ["servers", sp.name, "tls_client_ca"];
    const text = await readMaterial(sp.tlsClientCa, path, diagnostics);
    if (text === undefined) continue;
    const r = inspectClientCa(text, path);
    // Inline PEM was checked by the compiler already: its diagnostics are not repeated.
    if (material(sp.tlsClientCa).kind === "file") diagnostics.push(...r.diagnostics);
    if (r.pem !== undefined) clientCas.set(sp.name, r.pem);
  }
  return { diagnostics, certificates, clientCas };
}
