/**
 * One ACME order with `npm:acme-client`: account (created or found by its
 * key, terms agreed), a fresh ECDSA P-256 (or RSA 2048) key and CSR for the domains,
 * http-01 (answered by our plain-HTTP servers, see `challenges.ts`) or
 * dns-01 (through a {@linkcode DnsProvider}), then finalize and download
 * the chain.
 *
 * acme-client's own pre-check of each challenge is skipped: it would fetch
 * port 80 and ask the public DNS before the CA does, which says nothing a
 * DNS provider's own wait and the CA's validation do not. The CA's
 * validation is the check.
 *
 * @module
 */
import type * as AcmeClient from "acme-client";
import { Agent } from "node:https";
import type { DnsProvider } from "./dns/provider.ts";
import type { ChallengeTokens } from "./challenges.ts";
import type { StoredCertificate } from "./renew.ts";

/** What {@linkcode orderCertificate} needs. */
export interface OrderRequest {
  readonly directory: string;
  /** The account key, PEM (see {@linkcode createAccountKey}). */
  readonly accountKey: string;
  /** Contact e-mail addresses of the account (`acme_email`, then `acme_contact`), without `mailto:`. */
  readonly contacts?: readonly string[];
  readonly domains: readonly string[];
  /** External account binding (`acme_eab_kid`, `acme_eab_hmac`), for a CA that requires one. */
  readonly eab?: { readonly kid: string; readonly hmacKey: string };
  /** The certificate's key: ECDSA P-256 (the default) or RSA 2048 (`acme_key_type`). */
  readonly keyType?: "ecdsa" | "rsa";
  /** dns-01 through this provider; http-01 without it. */
  readonly dns?: DnsProvider;
  /** Where http-01 tokens are published (the listeners answer them); without it only dns-01 can be ordered. */
  readonly challenges?: ChallengeTokens;
  readonly log: (line: string) => void;
  /** PEM of the roots the ACME server's certificate must chain to (`acme_ca`), instead of the system's. */
  readonly ca?: string;
}

/** A new account key (ECDSA P-256), PEM. */
export async function createAccountKey(): Promise<string> {
  return (await (await acmeClient()).crypto.createPrivateEcdsaKey()).toString();
}

/**
 * Trusts these extra roots (PEM) for the connections to the ACME CA, on
 * top of the system's (a private CA, Pebble). `NODE_EXTRA_CA_CERTS` does
 * the same for the whole process.
 */
export function trustAcmeRoots(pem: string): void {
  roots = pem;
  if (loaded) loaded.axios.defaults.httpsAgent = new Agent({ ca: pem });
}

let roots: string | undefined;
let loaded: typeof AcmeClient | undefined;

/**
 * acme-client, loaded on first use: it adds ~36 MiB and ~200 ms to a start
 * that has no ACME certificate.
 */
async function acmeClient(): Promise<typeof AcmeClient> {
  if (!loaded) {
    loaded = (await import("acme-client")).default as unknown as typeof AcmeClient;
    if (roots !== undefined) loaded.axios.defaults.httpsAgent = new Agent({ ca: roots });
  }
  return loaded;
}

/** Validity and names of a PEM certificate (the first of a chain). */
function certificateInfo(
  acme: typeof AcmeClient,
  pem: string,
): { notBefore: number; notAfter: number; names: string[] } {
  const info = acme.crypto.readCertificateInfo(pem);
  return {
    notBefore: info.notBefore.getTime(),
    notAfter: info.notAfter.getTime(),
    names: [...new Set([info.domains.commonName, ...info.domains.altNames].filter(Boolean))],
  };
}

/** Places one order and returns the issued certificate, ready to store. Throws on any failure. */
export async function orderCertificate(req: OrderRequest): Promise<StoredCertificate> {
  const acme = await acmeClient();
  // `acme_ca` replaces the roots for this order's connections (orders run one at a time); else the roots trusted
  // for the process, else the system's.
  const ca = req.ca ?? roots;
  acme.axios.defaults.httpsAgent = ca === undefined ? undefined : new Agent({ ca });
  const client = new acme.Client({
    directoryUrl: req.directory,
    accountKey: req.accountKey,
    // Sent with the new-account request (acme-client adds it there), which is where a CA asks for it.
    ...(req.eab ? { externalAccountBinding: { kid: req.eab.kid, hmacKey: req.eab.hmacKey } } : {}),
  });
  const [first] = req.domains;
  const [key, csr] = await acme.crypto.createCsr(
    { ...(first && first.length <= 64 ? { commonName: first } : {}), altNames: [...req.domains] },
    req.keyType === "rsa" ? await acme.crypto.createPrivateRsaKey(2048) : await acme.crypto.createPrivateEcdsaKey(),
  );
  // The account, found by its key or created. acme-client's createAccount() follows an existing account
  // (HTTP 200) with an account update that carries no change, which Pebble refuses ("Use POST-as-GET");
  // its lower layer only records the account URL, after which auto() skips registration.
  const api = (client as unknown as { api: { createAccount(data: unknown): Promise<unknown> } }).api;
  const contact = (req.contacts ?? []).map((e) => `mailto:${e}`);
  await api.createAccount({ termsOfServiceAgreed: true, ...(contact.length ? { contact } : {}) });
  const type = req.dns ? "dns-01" : "http-01";
  const dns = req.dns;
  const cert = await client.auto({
    csr,
    termsOfServiceAgreed: true,
    skipChallengeVerification: true,
    challengePriority: [type],
    async challengeCreateFn(authz, challenge, keyAuthorization) {
      const name = authz.identifier.value;
      if (challenge.type === "http-01") {
        if (!req.challenges) throw new Error(`${name}: http-01 needs a listener answering tokens`);
        await req.challenges.add(challenge.token, keyAuthorization);
        req.log(`acme: ${name}: http-01 token ${challenge.token} published`);
      } else if (challenge.type === "dns-01" && dns) {
        await dns.setTxt(`_acme-challenge.${name}`, keyAuthorization);
        req.log(`acme: ${name}: dns-01 TXT _acme-challenge.${name} set by ${dns.name}`);
      } else {
        throw new Error(`${name}: the CA offered no ${type} challenge`);
      }
    },
    async challengeRemoveFn(authz, challenge, keyAuthorization) {
      if (challenge.type === "http-01") await req.challenges?.remove(challenge.token);
      else if (dns) {
        await dns.clearTxt(`_acme-challenge.${authz.identifier.value}`, keyAuthorization).catch((e) =>
          req.log(`acme: removing the TXT record failed: ${(e as Error).message}`)
        );
      }
    },
  });
  const info = certificateInfo(acme, cert);
  return {
    domains: [...req.domains],
    directory: req.directory,
    cert,
    key: key.toString(),
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    issuedAt: Date.now(),
  };
}
