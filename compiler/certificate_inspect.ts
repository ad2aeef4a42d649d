/**
 * Certificate inspection: PEM text in, facts and diagnostics out. Pure (no
 * file reading): `check --live` and the runtime read the material, then
 * both call {@linkcode inspectCertificate}, so a certificate is parsed and
 * judged the same way everywhere.
 *
 * @module
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { diag, type Diagnostic, type KeyPath } from "./diagnostic.ts";

/** A certificate that parsed, with its key. */
export interface InspectedCertificate {
  /** `[certificates.<name>]`. */
  readonly name: string;
  /** The leaf certificate, PEM. */
  readonly leaf: string;
  /** Chain certificates (from `tls_cert` after the leaf, then `tls_chain`), PEM, in order. */
  readonly chain: readonly string[];
  /** The private key, PEM as given. */
  readonly key: string;
  /** The parsed leaf. */
  readonly x509: X509Certificate;
  /** SNI names served: `domains`, else the certificate's SAN DNS and IP names. */
  readonly domains: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly isDefault: boolean;
  readonly isCa: boolean;
  /** ACME-managed (`acme` set). */
  readonly acme: boolean;
  /** `buffer_days` as configured (0 = the default of the user). */
  readonly bufferDays: number;
}

/** The keys of `[certificates.<name>]` that inspection reads. */
export interface InspectConfig {
  readonly domains?: readonly string[] | undefined;
  readonly is_default?: boolean | undefined;
  readonly is_ca?: boolean | undefined;
  readonly acme?: string | undefined;
  readonly buffer_days?: number | undefined;
}

/** What {@linkcode inspectCertificate} found. */
export interface Inspection {
  readonly diagnostics: Diagnostic[];
  /** Set when the certificate and key parsed (even with warnings or validity errors). */
  readonly certificate?: InspectedCertificate;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The CERTIFICATE blocks of a PEM text, in order. */
export function pemCertificates(text: string): string[] {
  return (text.match(PEM_CERT) ?? []).map((b) => b + "\n");
}

/** SAN DNS and IP names of a certificate (the CN when it has no SAN). */
export function certificateNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (!san) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject);
    return cn ? [cn[1]!.trim()] : [];
  }
  return san.split(/,\s*/).flatMap((e) => {
    const m = /^(DNS|IP Address):(.+)$/.exec(e.trim());
    return m ? [m[2]!.toLowerCase()] : [];
  });
}

/** True when a certificate name (maybe `*.x.com`) covers `domain` (maybe `*.x.com` itself). */
export function nameCovers(certName: string, domain: string): boolean {
  const n = certName.toLowerCase(), d = domain.toLowerCase();
  if (n === d) return true;
  if (!n.startsWith("*.") || d.startsWith("*.")) return false;
  const dot = d.indexOf(".");
  return dot > 0 && d.slice(dot + 1) === n.slice(2);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Parses a certificate's material and judges it: key matches, valid now,
 * configured `domains` covered by the certificate. Expiry of an ACME
 * certificate is a warning (it is about to be renewed), otherwise an error.
 *
 * @param name The `[certificates.<name>]` name (key paths).
 * @param config Its config.
 * @param pem The material read: certificate (and chain), key, extra chain.
 * @param now Current time, ms.
 * @returns Diagnostics, and the certificate when it parsed.
 */
export function inspectCertificate(
  name: string,
  config: InspectConfig,
  pem: { readonly cert: string; readonly key: string; readonly chain?: string | undefined },
  now: number = Date.now(),
): Inspection {
  const path: KeyPath = ["certificates", name];
  const out: Diagnostic[] = [];
  const blocks = pemCertificates(pem.cert);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(blocks[0] ?? pem.cert);
  } catch (e) {
    out.push(diag("certificate-invalid", [...path, "tls_cert"], `Certificate "${name}" cannot be parsed: ${msg(e)}`));
    return { diagnostics: out };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.key);
  } catch (e) {
    out.push(
      diag("certificate-invalid", [...path, "tls_key"], `Key of certificate "${name}" cannot be parsed: ${msg(e)}`),
    );
    return { diagnostics: out };
  }
  if (!x509.checkPrivateKey(key)) {
    out.push(
      diag(
        "certificate-key-mismatch",
        [...path, "tls_key"],
        `Key of certificate "${name}" does not match the certificate`,
        {
          hint: "Give the key the certificate was issued for",
        },
      ),
    );
  }
  const notBefore = Date.parse(x509.validFrom), notAfter = Date.parse(x509.validTo);
  const acme = (config.acme ?? "") !== "";
  const severity = acme ? "warning" : "error";
  if (notAfter < now) {
    out.push(diag("certificate-expired", [...path, "tls_cert"], `Certificate "${name}" expired on ${day(notAfter)}`, {
      hint: acme ? "ACME renews it" : "Renew it",
      severity,
    }));
  } else if (notBefore > now) {
    out.push(
      diag(
        "certificate-not-yet-valid",
        [...path, "tls_cert"],
        `Certificate "${name}" is not valid before ${day(notBefore)}`,
        {
          severity,
        },
      ),
    );
  }
  const isCa = config.is_ca ?? false;
  if (isCa && !x509.ca) {
    out.push(
      diag(
        "certificate-not-ca",
        [...path, "is_ca"],
        `Certificate "${name}" has is_ca set but is not a CA certificate`,
        {
          hint: "Give a certificate with basicConstraints CA:TRUE",
        },
      ),
    );
  }
  const names = certificateNames(x509);
  const domains = config.domains && config.domains.length > 0 ? config.domains.map((d) => d.toLowerCase()) : names;
  if (!isCa && config.domains) {
    config.domains.forEach((d, i) => {
      if (!names.some((n) => nameCovers(n, d))) {
        out.push(
          diag("certificate-domain", [...path, "domains", i], `Certificate "${name}" does not cover domain "${d}"`, {
            hint: `It covers: ${names.join(", ") || "no name"}`,
            severity,
          }),
        );
      }
    });
  }
  const chain = [...blocks.slice(1), ...pemCertificates(pem.chain ?? "")];
  return {
    diagnostics: out,
    certificate: {
      name,
      leaf: blocks[0] ?? pem.cert,
      chain,
      key: pem.key,
      x509,
      domains,
      notBefore,
      notAfter,
      isDefault: config.is_default ?? false,
      isCa,
      acme,
      bufferDays: config.buffer_days ?? 0,
    },
  };
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
