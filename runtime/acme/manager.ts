/**
 * The ACME service: keeps every `acme` certificate of the plan issued and
 * fresh. A pass loads what is stored (once), hands a usable certificate to
 * `onCertificate`, and orders a new one when {@linkcode renewalReason}
 * says so. The next pass is timed for the earliest renewal or retry, and
 * at least every `checkIntervalMs` (10 minutes, as Pingap).
 *
 * A failure is logged, sent as a `lets_encrypt` webhook event (level
 * error), and retried after a backoff from `minBackoffMs` (1 minute)
 * doubling to `maxBackoffMs` (6 hours), so a broken setup does not run
 * into the CA's rate limits. A certificate that is still valid keeps
 * being served meanwhile.
 *
 * @module
 */
import type { CertificatePlan, Plan } from "../../compiler/mod.ts";
import type { Notifier } from "../observe/notify.ts";
import { dnsProviderFor } from "./dns/provider.ts";
import type { ProviderOptions } from "./dns/wait_txt.ts";
import { createAccountKey, orderCertificate } from "./order.ts";
import { parseStored, renewalReason, renewAt, type StoredCertificate } from "./renew.ts";
import type { AcmeStorage } from "./storage.ts";
import type { ChallengeTokens } from "./challenges.ts";

/** A certificate handed to the TLS side. */
export interface IssuedCertificate {
  /** Leaf + chain, PEM. */
  readonly cert: string;
  /** Private key, PEM. */
  readonly key: string;
  readonly domains: readonly string[];
  readonly notAfter: number;
  /** `is_default` of the certificate: also served when no name matches. */
  readonly isDefault: boolean;
}

/** Options of {@linkcode createAcmeManager}. */
export interface AcmeManagerOptions {
  readonly storage: AcmeStorage;
  /** Told the certificate to serve for a name: the stored one at start, then each new one. */
  readonly onCertificate?: (name: string, cert: IssuedCertificate) => void;
  /** The notifier of the plan serving now. */
  readonly notifier?: () => Notifier;
  /** Where progress and failures go (default console.error). */
  readonly log?: (line: string) => void;
  readonly checkIntervalMs?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Options for the dns-01 providers (poll counts, resolver). */
  readonly dns?: ProviderOptions;
  /** Where http-01 tokens are published for the listeners to answer (see challenges.ts). */
  readonly challenges?: ChallengeTokens;
  /** Told before each order is placed (instrumentation). */
  readonly onOrder?: (name: string) => void;
}

/** A running ACME service. */
export interface AcmeManager {
  /** Manages the `acme` certificates of `plan` (replacing the previous set) and runs a pass. */
  update(plan: Plan): void;
  /** The stored certificate of a name, once loaded or issued. */
  current(name: string): StoredCertificate | undefined;
  /** Resolves when no pass is running or queued. */
  idle(): Promise<void>;
  /** Stops the timers and waits for a running pass. */
  close(): Promise<void>;
}

interface State {
  loaded: boolean;
  stored?: StoredCertificate | undefined;
  handed?: string;
  failures: number;
  retryAt: number;
}

/** Starts nothing until {@linkcode AcmeManager.update} is called. */
export function createAcmeManager(options: AcmeManagerOptions): AcmeManager {
  const log = options.log ?? ((line: string) => console.error(line));
  const checkInterval = options.checkIntervalMs ?? 600_000;
  const minBackoff = options.minBackoffMs ?? 60_000;
  const maxBackoff = options.maxBackoffMs ?? 6 * 3600_000;
  const states = new Map<string, State>();
  let certs: readonly CertificatePlan[] = [];
  let accountKey: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const notify = (level: "info" | "error", message: string) =>
    void options.notifier?.().notify({ category: "lets_encrypt", level, message });

  function hand(name: string, s: StoredCertificate, isDefault: boolean): void {
    if (s.cert === states.get(name)?.handed) return;
    states.get(name)!.handed = s.cert;
    try {
      options.onCertificate?.(name, { cert: s.cert, key: s.key, domains: s.domains, notAfter: s.notAfter, isDefault });
    } catch (e) {
      log(`acme: "${name}": handing the certificate over failed: ${(e as Error).message}`);
    }
  }

  async function account(): Promise<string> {
    if (accountKey) return accountKey;
    let pem = await options.storage.get("account.key.pem");
    if (!pem) {
      pem = await createAccountKey();
      await options.storage.put("account.key.pem", pem);
      log(`acme: new account key stored in ${options.storage.where}`);
    }
    return accountKey = pem;
  }

  async function one(c: CertificatePlan): Promise<void> {
    const st = states.get(c.name) ?? { loaded: false, failures: 0, retryAt: 0 };
    states.set(c.name, st);
    const domains = c.domains ?? [];
    const wanted = { domains, directory: c.acmeDirectory, bufferDays: c.bufferDays };
    if (!st.loaded) {
      st.stored = parseStored(await options.storage.get(`certificates/${c.name}.json`));
      st.loaded = true;
      if (st.stored) log(`acme: "${c.name}": stored certificate valid until ${iso(st.stored.notAfter)}`);
    }
    const now = Date.now();
    if (st.stored && now < st.stored.notAfter) hand(c.name, st.stored, c.isDefault); // serve it while renewing
    const reason = renewalReason(st.stored, wanted, now);
    if (!reason || now < st.retryAt) return;
    log(`acme: "${c.name}": ordering a certificate for ${domains.join(", ")} from ${wanted.directory}: ${reason}`);
    try {
      const dns = c.dnsChallenge
        ? dnsProviderFor({
          dns_provider: c.dnsProvider,
          ...(c.dnsServiceUrl !== undefined ? { dns_service_url: c.dnsServiceUrl } : {}),
        }, { log, ...options.dns })
        : undefined;
      options.onOrder?.(c.name);
      const issued = await orderCertificate({
        directory: wanted.directory,
        accountKey: await account(),
        contacts: accountContacts(c.acmeEmail, c.acmeContact),
        ...(c.acmeEabKid !== undefined && c.acmeEabHmac !== undefined
          ? { eab: { kid: c.acmeEabKid, hmacKey: c.acmeEabHmac } }
          : {}),
        domains,
        keyType: c.acmeKeyType,
        ...(c.acmeCa !== undefined ? { ca: await Deno.readTextFile(c.acmeCa) } : {}),
        ...(dns ? { dns } : {}),
        ...(options.challenges ? { challenges: options.challenges } : {}),
        log,
      });
      await options.storage.put(`certificates/${c.name}.json`, JSON.stringify(issued, null, 2));
      st.stored = issued;
      st.failures = 0;
      st.retryAt = 0;
      log(`acme: "${c.name}": certificate issued, valid until ${iso(issued.notAfter)}`);
      hand(c.name, issued, c.isDefault);
      notify("info", `Domains: [${domains.join(", ")}], certificate issued, valid until ${iso(issued.notAfter)}`);
    } catch (e) {
      st.failures++;
      const wait = Math.min(minBackoff * 2 ** (st.failures - 1), maxBackoff);
      st.retryAt = Date.now() + wait;
      const message = `Domains: [${domains.join(", ")}], order failed (attempt ${st.failures}): ${
        (e as Error).message
      }; retrying in ${Math.round(wait / 1000)} s`;
      log(`acme: "${c.name}": ${message}`);
      notify("error", message);
    }
  }

  function schedule(): void {
    clearTimeout(timer);
    if (closed) return;
    let next = Date.now() + checkInterval;
    for (const c of certs) {
      const st = states.get(c.name);
      if (st?.retryAt) next = Math.min(next, st.retryAt);
      else if (st?.stored) next = Math.min(next, renewAt(st.stored, c.bufferDays));
    }
    timer = setTimeout(kick, Math.max(1000, next - Date.now()));
  }

  async function pass(): Promise<void> {
    do {
      again = false;
      for (const c of certs) {
        if (closed) return;
        await one(c).catch((e) => log(`acme: "${c.name}": ${(e as Error).message}`));
      }
    } while (again && !closed);
    schedule();
  }

  function kick(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => running = undefined);
  }

  return {
    update(plan) {
      certs = plan.certificates.filter((c) => c.acme && (c.domains ?? []).length);
      const names = new Set(certs.map((c) => c.name));
      for (const name of states.keys()) if (!names.has(name)) states.delete(name);
      kick();
    },
    current: (name) => states.get(name)?.stored,
    async idle() {
      while (running) await running;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The account's contact addresses: `acme_email`, then each of `acme_contact` (its `mailto:` removed), once each.
 *
 * @example Usage
 * ```ts
 * import { accountContacts } from "./manager.ts";
 * const c = accountContacts("ops@a.test", ["mailto:ops@a.test", "sec@a.test"]);
 * if (c.join() !== "ops@a.test,sec@a.test") throw new Error();
 * ```
 */
export function accountContacts(email: string | undefined, contacts: readonly string[] | undefined): string[] {
  const all = [...(email ? [email] : []), ...(contacts ?? []).map((c) => c.replace(/^mailto:/i, ""))];
  return [...new Set(all.filter((c) => c !== ""))];
}
