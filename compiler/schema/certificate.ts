/**
 * `[certificates.<name>]`: TLS certificates, static or from ACME.
 *
 * @module
 */
import { remark } from "./common.ts";
import { refine } from "./refine.ts";
import { bool, field, int, list, oneOf, type Parsed, parsed, str, table } from "./types.ts";

/** Let's Encrypt's production directory, the default of `acme_directory`. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

function directoryUrl(text: string): Parsed<string> {
  const t = text.trim();
  if (!/^https:\/\/[^\s/]+/i.test(t)) {
    return {
      ok: false,
      message: `Invalid ACME directory URL ${JSON.stringify(text)}: acme_directory(${t}) should be an https url`,
      hint: `Give the CA's directory URL, e.g. "${LETS_ENCRYPT_DIRECTORY}"`,
    };
  }
  return { ok: true, value: t };
}

function pemPath(text: string): Parsed<string> {
  const t = text.trim();
  if (t === "" || t.includes("-----BEGIN") || t.includes("\n")) {
    return {
      ok: false,
      message: `acme_ca(${t.slice(0, 40)}) should be the path of a PEM file`,
      hint: "Give the path of the CA's PEM file, not its text",
    };
  }
  return { ok: true, value: t };
}

function base64Key(text: string): Parsed<string> {
  const t = text.trim();
  if (t === "" || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(t) || t.replace(/=+$/, "").length % 4 === 1) {
    return { ok: false, message: "acme_eab_hmac is not base64", hint: "Copy the HMAC key as the CA gives it" };
  }
  return { ok: true, value: t };
}

/** `acme_contact`: e-mail addresses, `mailto:` removed. */
const acmeContacts = refine(list("e-mail addresses"), (items) => {
  const bad = items.map((a) => a.replace(/^mailto:/i, "")).find((a) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(a));
  return bad === undefined ? undefined : {
    message: `acme_contact(${bad}) is not an e-mail address`,
    hint: "Write e-mail addresses, comma separated",
  };
});

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
    acme_directory: field(parsed("url", directoryUrl, { format: "uri" }), {
      doc: "ACME directory URL: Let's Encrypt by default; its staging " +
        "(`https://acme-staging-v02.api.letsencrypt.org/directory`) or a private CA (step-ca, Pebble) work too.",
      default: LETS_ENCRYPT_DIRECTORY,
    }),
    acme_email: field(str(), { doc: "Contact e-mail given to the ACME CA when the account is created (optional)." }),
    dns_challenge: field(bool(), { doc: "Use dns-01 instead of http-01.", default: false }),
    dns_provider: field(
      oneOf(["manual", "cloudflare", "ali", "tencent", "huawei", "challtestsrv"], {
        aliases: { cf: "cloudflare", aliyun: "ali", "": "manual" },
      }),
      {
        doc: "DNS provider for dns-01: `manual` (logs the TXT record and waits for it), `cloudflare` (`cf`), " +
          "`ali` (`aliyun`), `tencent`, `huawei`, `challtestsrv` (pebble-challtestsrv's management API, for tests).",
        default: "manual",
      },
    ),
    dns_service_url: field(str(), {
      doc: "Provider endpoint and credentials URL, e.g. `https://api.cloudflare.com?token=T` or " +
        "`https://alidns.aliyuncs.com?access_key_id=ID&access_key_secret=SECRET` (ali; tencent: " +
        "`https://dnspod.tencentcloudapi.com?…`, huawei: `https://dns.<region>.myhuaweicloud.com?…`) or " +
        "`http://127.0.0.1:8055` (challtestsrv); like any string, the whole value may be `$ENV:NAME` or " +
        "`$FILE:/path`.",
    }),
    buffer_days: field(int({ min: 0, max: 3650 }), {
      doc: "Renew (ACME) or warn (others) this many days before expiry " +
        "(0 = when a third of the lifetime is left for ACME, 7 days for warnings).",
      default: 0,
      unit: "days",
    }),
    acme_ca: field(parsed("PEM file path", pemPath), {
      doc: "PEM file of the root that the ACME server's TLS certificate chains to (a private CA such as step-ca); " +
        "it replaces the system roots for the connections to the ACME server. Read at each order.",
      defaultText: "system roots",
    }),
    acme_eab_kid: field(str({ nonEmpty: true }), {
      doc: "External account binding key id, from CAs that require one (ZeroSSL, some private CAs); set " +
        "together with `acme_eab_hmac`. Sent when the account is created.",
    }),
    acme_eab_hmac: field(parsed("base64", base64Key), {
      doc: "External account binding HMAC key, base64 (either alphabet, padded or not).",
    }),
    acme_contact: field(acmeContacts, {
      doc: "Contact e-mail addresses given to the ACME CA when the account is created (after `acme_email`), " +
        "comma separated; a `mailto:` prefix is removed.",
    }),
    acme_key_type: field(oneOf(["ecdsa", "rsa"]), {
      doc: "Key of the ACME certificate: `ecdsa` (P-256) or `rsa` (2048 bits); used from the next order on.",
      default: "ecdsa",
    }),
    ocsp_stapling: field(bool(), {
      unapplied: "Deno's TLS listener cannot staple an OCSP response (its node:tls, on rustls, has no OCSPRequest " +
        "event and its secure context takes no OCSP response)",
      doc: "Staple the OCSP response of the certificate's responder to handshakes, refreshed before it expires.",
      default: false,
    }),
    remark,
  },
});
