/**
 * `[certificates.<name>]` → {@linkcode CertificatePlan}: where the material
 * is, or how ACME obtains it, with the defaults filled; the rules that need
 * several keys at once are checked here.
 *
 * @module
 */
import { diag, type KeyPath } from "./diagnostic.ts";
import { stableHash } from "./hash.ts";
import { certificateRules } from "./parity_rules.ts";
import type { CertificateConfig, CertificatePlan } from "./plan.ts";
import { type BuildContext, decodeSection } from "./plan_sections.ts";
import { certificateSchema } from "./schema/certificate.ts";

/** Compiles `[certificates]`. */
export function compileCertificates(ctx: BuildContext): CertificatePlan[] {
  const { diags } = ctx;
  const certificates: CertificatePlan[] = [];
  for (const [name, config] of decodeSection<CertificateConfig>(ctx, "certificates", certificateSchema)) {
    const path: KeyPath = ["certificates", name];
    certificateRules(name, config, diags);
    if (config.acme && (config.domains ?? []).length === 0) {
      diags.push(
        diag("missing-key", [...path, "domains"], `Certificate "${name}" uses ACME but has no domains`, {
          hint: 'Set domains = "example.com,www.example.com"',
        }),
      );
    }
    const wildcard = config.acme && !config.dns_challenge && (config.domains ?? []).find((d) => d.startsWith("*."));
    if (wildcard) {
      diags.push(
        diag("invalid-value", [...path, "domains"], `ACME issues "${wildcard}" only through dns-01`, {
          hint: "Set dns_challenge = true and a dns_provider",
        }),
      );
    }
    // The provider is made when the order starts: without its URL every order failed and was retried.
    if (config.acme && config.dns_challenge && config.dns_provider !== "manual" && !config.dns_service_url?.trim()) {
      diags.push(
        diag(
          "missing-key",
          [...path, "dns_service_url"],
          `Certificate "${name}" uses dns_provider "${config.dns_provider}" but has no dns_service_url`,
          { hint: 'Set the provider\'s endpoint and credentials URL, or use dns_provider = "manual"' },
        ),
      );
    }
    if (!config.acme && (config.tls_cert === undefined) !== (config.tls_key === undefined)) {
      const missing = config.tls_cert === undefined ? "tls_cert" : "tls_key";
      diags.push(
        diag(
          "missing-key",
          [...path, missing],
          `Certificate "${name}" has ${
            missing === "tls_cert" ? "a key but no certificate" : "a certificate but no key"
          }`,
          { hint: `Set ${missing}` },
        ),
      );
    }
    certificates.push(certificatePlan(name, config));
  }
  return certificates;
}

function certificatePlan(name: string, c: CertificateConfig): CertificatePlan {
  return {
    name,
    key: stableHash(c),
    ...(c.domains !== undefined ? { domains: c.domains } : {}),
    ...(c.tls_cert !== undefined ? { tlsCert: c.tls_cert } : {}),
    ...(c.tls_key !== undefined ? { tlsKey: c.tls_key } : {}),
    ...(c.tls_chain !== undefined ? { tlsChain: c.tls_chain } : {}),
    isDefault: c.is_default,
    isCa: c.is_ca,
    bufferDays: c.buffer_days,
    ...(c.acme !== undefined ? { acme: c.acme } : {}),
    acmeDirectory: c.acme_directory,
    ...(c.acme_email !== undefined ? { acmeEmail: c.acme_email } : {}),
    ...(c.acme_contact !== undefined ? { acmeContact: c.acme_contact } : {}),
    acmeKeyType: c.acme_key_type,
    ...(c.acme_ca !== undefined ? { acmeCa: c.acme_ca } : {}),
    ...(c.acme_eab_kid !== undefined ? { acmeEabKid: c.acme_eab_kid } : {}),
    ...(c.acme_eab_hmac !== undefined ? { acmeEabHmac: c.acme_eab_hmac } : {}),
    dnsChallenge: c.dns_challenge,
    dnsProvider: c.dns_provider,
    ...(c.dns_service_url !== undefined ? { dnsServiceUrl: c.dns_service_url } : {}),
  };
}
