/**
 * An upstream's TLS material: `ca`, the PEM its backends' certificates are
 * verified against, and `client_cert` / `client_key`, the certificate it
 * presents (mutual TLS). Each is PEM text, base64 of PEM or a file path
 * (as certificates are), read when the upstream's client is made, at
 * start and at the reload that brings the upstream; a file that cannot be
 * read fails that start or reload, never a request.
 *
 * @module
 */
import { material, type UpstreamPlan } from "../../compiler/mod.ts";

/** A client certificate and its key, PEM. */
export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

function home(): string {
  try {
    return Deno.env.get("HOME") ?? "";
  } catch {
    return ""; // no --allow-env: `~` stays unexpanded
  }
}

function read(plan: UpstreamPlan, key: string, value: string): string {
  const m = material(value, home());
  if (m.kind === "pem") return m.pem;
  try {
    return Deno.readTextFileSync(m.path);
  } catch (e) {
    throw new Error(`upstream(${plan.name}): ${key} "${m.path}" cannot be read: ${(e as Error).message}`);
  }
}

/**
 * The CA certificates of `plan` (`config.ca`), or undefined when it has none.
 *
 * @example Usage
 * ```ts
 * import { upstreamCaCerts } from "./upstream_ca.ts";
 * const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
 * if (upstreamCaCerts({ name: "u", ca: pem } as never)?.[0] !== pem) throw new Error();
 * ```
 */
export function upstreamCaCerts(plan: UpstreamPlan): string[] | undefined {
  const ca = plan.ca;
  return ca === undefined ? undefined : [read(plan, "ca", ca)];
}

/** The client certificate of `plan` (`config.client_cert` and `config.client_key`, set together), or undefined. */
export function upstreamClientCertificate(plan: UpstreamPlan): ClientCertificate | undefined {
  const cert = plan.clientCert, key = plan.clientKey;
  if (cert === undefined || key === undefined) return undefined;
  return { cert: read(plan, "client_cert", cert), key: read(plan, "client_key", key) };
}
