/**
 * The manual dns-01 provider: logs the TXT record an operator must create,
 * then polls the DNS (10 times, 10 s apart, by default) until it is seen,
 * and goes on either way, as Pingap does; the CA then decides. Removal is
 * logged too.
 *
 * @module
 */
import type { DnsProvider } from "./provider.ts";
import { type ProviderOptions, waitForTxt } from "./wait_txt.ts";

/** A provider that asks a human. */
export function manualProvider(options: ProviderOptions = {}): DnsProvider {
  const log = options.log ?? ((line: string) => console.error(line));
  return {
    name: "manual",
    async setTxt(fqdn, value) {
      log(`acme dns-01 (manual): create the DNS record  ${fqdn}. TXT "${value}"  — waiting for it to appear`);
      const seen = await waitForTxt(fqdn, value, options);
      log(`acme dns-01 (manual): ${fqdn} TXT ${seen ? "seen" : "not seen yet; asking the CA anyway"}`);
    },
    clearTxt(fqdn, value) {
      log(`acme dns-01 (manual): the record ${fqdn}. TXT "${value}" can be removed now`);
      return Promise.resolve();
    },
  };
}
