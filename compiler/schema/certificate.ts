/**
 * `[certificates.<name>]`: TLS certificates, static or from ACME.
 *
 * @module
 */
import { remark } from "./common.ts";
import { bool, field, int, list, oneOf, str, table } from "./types.ts";

/** The `[certificates.<name>]` table. */
export const certificateSchema = table({
  title: "[certificates.<name>]",
  doc: "A certificate served by SNI, given as PEM, base64 PEM or a file path, or obtained by ACME.",
  fields: {
    domains: field(list("domains"), {
      doc: "SNI names served by this certificate, comma separated; `*.example.com` allowed.",
      defaultText: "the certificate's SAN names",
    }),
    tls_cert: field(str(), { doc: "Certificate (and chain): PEM text, base64 of PEM, or a file path (`~` expanded)." }),
    tls_key: field(str(), { doc: "Private key: PEM text, base64 of PEM, or a file path." }),
    tls_chain: field(str(), { doc: "Extra chain certificates sent after `tls_cert` (same forms)." }),
    is_default: field(bool(), { doc: "Serve this certificate when no other matches the SNI.", default: false }),
    is_ca: field(bool(), { doc: "Treat as a CA: mint a leaf for each SNI on the fly.", default: false }),
    acme: field(oneOf(["lets_encrypt"]), { doc: "Obtain and renew this certificate by ACME (needs `domains`)." }),
    dns_challenge: field(bool(), { doc: "Use dns-01 instead of http-01.", default: false }),
    dns_provider: field(
      oneOf(["manual", "cloudflare", "ali", "tencent", "huawei"], {
        aliases: { cf: "cloudflare", aliyun: "ali", "": "manual" },
      }),
      {
        doc: "DNS provider for dns-01: `manual`, `cloudflare` (`cf`), `ali`, `tencent`, `huawei`.",
        default: "manual",
      },
    ),
    dns_service_url: field(str(), {
      doc: "Provider endpoint and credentials URL; the whole value may be `$ENV:NAME`.",
    }),
    buffer_days: field(int({ min: 0, max: 3650 }), {
      doc: "Renew (ACME) or warn (others) this many days before expiry (0 = 2 for ACME, 7 for warnings).",
      default: 0,
      unit: "days",
    }),
    remark,
  },
});
