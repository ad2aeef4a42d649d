/**
 * `tls_client_ca`: the CA certificates a server checks client certificates against (mutual TLS). Pure: PEM text in,
 * the certificates and diagnostics out. `check` inspects inline PEM (or base64 PEM) here; `check --live` and the
 * runtime read a file and inspect it the same way, so a CA is judged alike everywhere.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import { pemCertificates } from "./certificate_inspect.ts";
import { diag, type Diagnostic, type KeyPath } from "./diagnostic.ts";

/** What {@linkcode inspectClientCa} found. */
export interface ClientCaInspection {
  readonly diagnostics: Diagnostic[];
  /** The CERTIFICATE blocks that parsed, PEM, in order; set when there is at least one and none failed. */
  readonly pem?: string;
}

/**
 * Checks the text of a `tls_client_ca`: at least one PEM certificate, and every one parses.
 *
 * @param text The PEM text (read from the file, or the inline value decoded).
 * @param path Key path of the `tls_client_ca` the diagnostics point at.
 */
export function inspectClientCa(text: string, path: KeyPath): ClientCaInspection {
  const blocks = pemCertificates(text);
  const hint = "Give the PEM certificate(s) of the CA that signs the client certificates";
  if (blocks.length === 0) {
    return { diagnostics: [diag("client-ca", path, "tls_client_ca holds no PEM certificate", { hint })] };
  }
  const diagnostics: Diagnostic[] = [];
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (e) {
      diagnostics.push(
        diag("client-ca", path, `tls_client_ca: certificate ${i + 1} does not parse: ${(e as Error).message}`, {
          hint,
        }),
      );
    }
  });
  return diagnostics.length > 0 ? { diagnostics } : { diagnostics, pem: blocks.join("") };
}
