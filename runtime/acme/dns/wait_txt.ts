/**
 * Waiting for a TXT record to become visible in the DNS.
 *
 * @module
 */

/** Options shared by the providers. */
export interface ProviderOptions {
  /** Where progress goes (default console.error). */
  readonly log?: (line: string) => void;
  /** Polls of the DNS before going on anyway (manual: 10). */
  readonly polls?: number;
  /** Time between polls, ms (default 10 000). */
  readonly pollIntervalMs?: number;
  /** Resolver to poll instead of the system's (tests). */
  readonly nameServer?: { ipAddr: string; port?: number };
}

/**
 * Polls the DNS until TXT `value` is seen at `fqdn`, at most `polls`
 * times; true when it was seen. Going on without seeing it is the caller's
 * choice (Pingap goes on).
 */
export async function waitForTxt(fqdn: string, value: string, options: ProviderOptions): Promise<boolean> {
  const polls = options.polls ?? 10;
  for (let i = 0; i < polls; i++) {
    try {
      const records = await Deno.resolveDns(fqdn, "TXT", options.nameServer ? { nameServer: options.nameServer } : {});
      if (records.some((parts) => parts.join("") === value)) return true;
    } catch { /* not yet (NXDOMAIN) */ }
    if (i + 1 < polls) await new Promise((r) => setTimeout(r, options.pollIntervalMs ?? 10_000));
  }
  return false;
}
