/**
 * Where the ACME service delivers certificates: a TLS certificate store
 * (the one the proxy of this isolate serves from), so the next handshake for
 * one of the domains serves the new certificate (open connections keep
 * theirs). A store is per isolate: with `threads` > 1 the main isolate, which
 * runs ACME, sends each certificate to the workers, which install it in
 * theirs.
 *
 * @module
 */
import type { CertStore } from "../tls/mod.ts";
import type { IssuedCertificate } from "./manager.ts";

/**
 * Installs an ACME certificate in `store` for serving (the `onCertificate` of
 * the CLI's ACME service). A certificate the store refuses (it checks key,
 * validity and domains) is logged and given to `onRefused` (the CLI sends it as
 * `parse_certificate_fail`), and the one served before stays.
 */
export function handOverCertificate(
  store: CertStore,
  name: string,
  cert: IssuedCertificate,
  options: { quiet?: boolean; onRefused?: (message: string) => void } = {},
): void {
  const until = new Date(cert.notAfter).toISOString();
  try {
    store.put(name, { cert: cert.cert, key: cert.key, domains: cert.domains, isDefault: cert.isDefault });
    if (!options.quiet) {
      console.error(`acme: "${name}" serves ${cert.domains.join(", ")} with a certificate valid until ${until}`);
    }
  } catch (e) {
    const message = `acme: "${name}": the TLS store refused the certificate: ${(e as Error).message}`;
    console.error(message);
    options.onRefused?.(message);
  }
}
