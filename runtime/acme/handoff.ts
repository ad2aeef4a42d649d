/**
 * Where the CLI's ACME service delivers certificates: the TLS certificate
 * store of this isolate, so the next handshake for one of the domains
 * serves the new certificate (existing connections keep theirs).
 *
 * @module
 */
import type { IssuedCertificate } from "./manager.ts";

const latest = new Map<string, IssuedCertificate>();

/** The last certificate handed over per name. */
export function handedCertificates(): ReadonlyMap<string, IssuedCertificate> {
  return latest;
}

/** Installs an ACME certificate for serving (the `onCertificate` of the CLI's ACME service). */
export function handOverCertificate(name: string, cert: IssuedCertificate): void {
  latest.set(name, cert);
  console.error(
    `acme: "${name}" serves ${cert.domains.join(", ")} with a certificate valid until ${
      new Date(cert.notAfter).toISOString()
    }`,
  );
}
