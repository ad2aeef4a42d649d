/**
 * ACME certificates (`acme = "lets_encrypt"` on a certificate with
 * `domains`), with `npm:acme-client`:
 *
 * - `manager.ts`: the service that loads, orders, renews and hands over
 *   certificates, with backoff and `lets_encrypt` webhook events;
 * - `order.ts`: one order (http-01 or dns-01);
 * - `challenges.ts`: the http-01 tokens every plain-HTTP server answers;
 * - `dns/`: dns-01 providers (Cloudflare, Alibaba, Tencent, Huawei, manual,
 *   pebble-challtestsrv);
 * - `renew.ts`: when to renew (a third of the lifetime left, or
 *   `buffer_days`);
 * - `storage.ts`: the account key and certificates, kept beside the config
 *   (`<conf>-acme/`) or in etcd (`/<base>-acme/`).
 *
 * @example Usage
 * ```ts ignore
 * import { startAcme } from "./mod.ts";
 * const acme = startAcme("conf/pingap.toml", plan, {
 *   challenges, // the ChallengeTokens the listeners answer
 *   onCertificate: (name, c) => handOverCertificate(certificates, name, c),
 * });
 * // on reload: acme?.update(next); at shutdown: await acme?.close();
 * ```
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import { type AcmeManager, type AcmeManagerOptions, createAcmeManager } from "./manager.ts";
import { acmeStorageFor } from "./storage.ts";

export { ACME_CHALLENGE_PREFIX, ChallengeTokens, type ShareChallenge } from "./challenges.ts";
export { type AcmeManager, type AcmeManagerOptions, createAcmeManager, type IssuedCertificate } from "./manager.ts";
export { type AcmeStorage, acmeStorageFor, etcdStorage, fileStorage } from "./storage.ts";
export { parseStored as parseStoredCertificate, type StoredCertificate } from "./renew.ts";
export { trustAcmeRoots } from "./order.ts";
export { handOverCertificate } from "./handoff.ts";

/** Does the plan have a certificate managed by ACME? */
export function usesAcme(plan: Plan): boolean {
  return plan.certificates.some((c) => c.acme && (c.domains ?? []).length > 0);
}

/**
 * Starts the ACME service for a config location (the `-c` value) when the
 * plan has an ACME certificate (or always, with `always`, so a reload can
 * add one); undefined otherwise or when `PINGAP_DISABLE_ACME` is set.
 */
export function startAcme(
  conf: string,
  plan: Plan,
  options: Omit<AcmeManagerOptions, "storage"> & { always?: boolean } = {},
): AcmeManager | undefined {
  const off = Deno.env.get("PINGAP_DISABLE_ACME");
  if ((off && off !== "false" && off !== "0") || (!options.always && !usesAcme(plan))) return undefined;
  const storage = acmeStorageFor(conf);
  (options.log ?? console.error)(`acme: account and certificates are kept in ${storage.where}`);
  const manager = createAcmeManager({ ...options, storage });
  manager.update(plan);
  return manager;
}
