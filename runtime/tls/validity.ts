/**
 * The validity checker (inventory §8.3): at start and then daily, every
 * certificate not managed by ACME that expires within `buffer_days` (0 means
 * 7) or is not valid yet is reported: a log line, a `tls_validity` webhook
 * (level warn), and the gauges `pingap_certificate_not_after_seconds{name}`
 * (its end, Unix seconds) and `pingap_certificate_expiring{name}` (1 when
 * warned about), so an alert can fire on either.
 *
 * @module
 */
import { Gauge, type Registry } from "prom-client";
import type { StoredCertificate } from "./store.ts";
import type { Notification } from "../observe/notify.ts";

const DAY = 86_400_000;

/** A certificate to warn about. */
export interface ValidityWarning {
  readonly name: string;
  readonly domains: readonly string[];
  readonly notAfter: number;
  readonly message: string;
}

/**
 * The warnings for `certs` at `now`: ACME-managed and runtime (`put`)
 * certificates are skipped, as ACME renews them.
 */
export function checkValidity(certs: readonly StoredCertificate[], now: number = Date.now()): ValidityWarning[] {
  const out: ValidityWarning[] = [];
  for (const { name, origin, certificate: c } of certs) {
    if (origin === "runtime" || c.acme) continue;
    const buffer = (c.bufferDays || 7) * DAY;
    const names = c.domains.join(", ");
    const end = new Date(c.notAfter).toISOString().slice(0, 10);
    let message: string | undefined;
    if (now < c.notBefore) {
      message = `certificate "${name}" (${names}) is not valid before ${
        new Date(c.notBefore).toISOString().slice(0, 10)
      }`;
    } else if (now > c.notAfter) message = `certificate "${name}" (${names}) expired on ${end}`;
    else if (now > c.notAfter - buffer) {
      const days = Math.floor((c.notAfter - now) / DAY);
      message = `certificate "${name}" (${names}) will be expired on ${end}, in ${days} days`;
    }
    if (message) out.push({ name, domains: c.domains, notAfter: c.notAfter, message });
  }
  return out;
}

/** Options of {@linkcode startValidityChecker}. */
export interface ValidityCheckerOptions {
  /** The certificates now (read at each check). */
  readonly certificates: () => readonly StoredCertificate[];
  /** Sends a webhook notification. */
  readonly notify: (n: Notification) => unknown;
  /** Where log lines go (default: console.error). */
  readonly log?: (line: string) => void;
  /** Registry for the gauges (none: no metrics). */
  readonly registry?: Registry;
  /** Time between checks (default: a day). */
  readonly intervalMs?: number;
}

/** A running checker. */
export interface ValidityChecker {
  /** Runs a check now; returns its warnings. */
  check(now?: number): ValidityWarning[];
  stop(): void;
}

let gauges: { registry: Registry; notAfter: Gauge; expiring: Gauge } | undefined;

function gaugesOf(registry: Registry) {
  if (gauges?.registry !== registry) {
    const reuse = (name: string) => registry.getSingleMetric(name) as Gauge | undefined;
    gauges = {
      registry,
      notAfter: reuse("pingap_certificate_not_after_seconds") ?? new Gauge({
        name: "pingap_certificate_not_after_seconds",
        help: "End of validity of a certificate, Unix seconds",
        labelNames: ["name"],
        registers: [registry],
      }),
      expiring: reuse("pingap_certificate_expiring") ?? new Gauge({
        name: "pingap_certificate_expiring",
        help: "1 when the certificate expires within its buffer_days (or is not valid yet), else 0",
        labelNames: ["name"],
        registers: [registry],
      }),
    };
  }
  return gauges;
}

/** Checks now, then every `intervalMs`; the timer does not keep the process alive. */
export function startValidityChecker(options: ValidityCheckerOptions): ValidityChecker {
  const log = options.log ?? ((line: string) => console.error(line));
  const check = (now = Date.now()) => {
    const certs = options.certificates();
    const warnings = checkValidity(certs, now);
    if (options.registry) {
      const g = gaugesOf(options.registry);
      g.notAfter.reset();
      g.expiring.reset();
      const warned = new Set(warnings.map((w) => w.name));
      for (const c of certs) {
        g.notAfter.set({ name: c.name }, Math.floor(c.certificate.notAfter / 1000));
        g.expiring.set({ name: c.name }, warned.has(c.name) ? 1 : 0);
      }
    }
    for (const w of warnings) {
      log(`warning: ${w.message}`);
      options.notify({ category: "tls_validity", level: "warn", message: w.message });
    }
    return warnings;
  };
  check();
  const timer = setInterval(() => check(), options.intervalMs ?? DAY);
  Deno.unrefTimer(timer);
  return { check, stop: () => clearInterval(timer) };
}
