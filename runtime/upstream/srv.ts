/**
 * `srv` discovery (Pingap 0.16): each `addrs` entry is a DNS name whose SRV
 * records name the backends, e.g. `_http._tcp.api.internal`.
 *
 * As Pingap: only the records of the lowest priority are used (the others
 * are spares, RFC 2782, and an upstream has no place for spares); a target
 * of `.` means "no service here"; a weight of 0 counts as 1, and the
 * weights are divided by their greatest common divisor and scaled so the
 * largest is at most 256. Each target is resolved to its addresses (A, and
 * AAAA unless `ipv4_only`) and every address gets the record's port and
 * weight; the entry's own port and weight are ignored. A target that does
 * not resolve is left out while another one does.
 *
 * What a failed name keeps is decided by {@linkcode srvRound}: a name with
 * no SRV records (NXDOMAIN, or no answer of that type) loses its backends;
 * a name that got no answer (timeout, server down) keeps the ones it last
 * had, for up to ten minutes.
 *
 * @module
 */
import { type LookupOptions, nameServer, resolveHost, toBackend } from "./discovery.ts";
import type { Backend } from "./types.ts";

/** One SRV record, as `Deno.resolveDns(name, "SRV")` gives it. */
export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** Looks up the SRV records of a name (default `Deno.resolveDns`). */
export type SrvResolver = (
  name: string,
  options: { nameServer?: { ipAddr: string; port: number }; signal: AbortSignal },
) => Promise<SrvRecord[]>;

/** The most an SRV weight comes to after {@linkcode normalizeWeights}. */
const SRV_WEIGHT_MAX = 256;

/** How long a name whose lookups fail keeps the backends it last had, ms. */
export const KEEP_FAILED_FOR = 600_000;

const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);

/**
 * SRV weights as they are to one another: divided by their common divisor,
 * the largest scaled down to 256 (each at least 1).
 *
 * @example Usage
 * ```ts
 * import { normalizeWeights } from "./srv.ts";
 * if (normalizeWeights([50, 50]).join() !== "1,1") throw new Error();
 * ```
 */
export function normalizeWeights(weights: readonly number[]): number[] {
  const common = weights.reduce(gcd, 0);
  const divided = common > 1 ? weights.map((w) => w / common) : [...weights];
  const largest = Math.max(0, ...divided);
  if (largest <= SRV_WEIGHT_MAX) return divided;
  return divided.map((w) => Math.max(1, Math.floor((w * SRV_WEIGHT_MAX + Math.floor(largest / 2)) / largest)));
}

/** Strips the root dot of a DNS name. */
const bare = (name: string) => name.endsWith(".") && name !== "." ? name.slice(0, -1) : name;

/**
 * The records a client uses: those of the lowest priority, without `.`
 * targets, with normalized weights.
 *
 * @example Usage
 * ```ts
 * import { pickSrvTargets } from "./srv.ts";
 * const t = pickSrvTargets([
 *   { priority: 10, weight: 0, port: 8080, target: "a.internal." },
 *   { priority: 20, weight: 5, port: 8080, target: "spare.internal." },
 * ]);
 * if (t.length !== 1 || t[0]!.target !== "a.internal" || t[0]!.weight !== 1) throw new Error();
 * ```
 */
export function pickSrvTargets(records: readonly SrvRecord[]): { target: string; port: number; weight: number }[] {
  const usable = records.filter((r) => r.target !== "." && r.target !== "");
  if (usable.length === 0) return [];
  const lowest = Math.min(...usable.map((r) => r.priority));
  const picked = usable.filter((r) => r.priority === lowest);
  const weights = normalizeWeights(picked.map((r) => Math.max(1, r.weight)));
  return picked.map((r, i) => ({ target: bare(r.target), port: r.port, weight: weights[i]! }));
}

/** What one name came to in a round. */
export type SrvResult =
  | { readonly kind: "found"; readonly backends: readonly Backend[] }
  /** The answer was that the name has no SRV records, or none of its targets exists. */
  | { readonly kind: "gone"; readonly error: string }
  /** No answer: a timeout, an unreachable server. */
  | { readonly kind: "failed"; readonly error: string };

const errorText = (e: unknown) => e instanceof Error ? e.message : String(e);

function defaultSrvResolver(
  name: string,
  options: { nameServer?: { ipAddr: string; port: number }; signal: AbortSignal },
): Promise<SrvRecord[]> {
  return Deno.resolveDns(name, "SRV", options);
}

/**
 * Resolves one SRV name to backends: its records (from the first name
 * server that answers), then each target's addresses.
 */
export async function resolveSrv(
  name: string,
  lookup: LookupOptions,
  srvResolver: SrvResolver = defaultSrvResolver,
): Promise<SrvResult> {
  const servers = lookup.nameServers.length ? lookup.nameServers.map(nameServer) : [undefined];
  let records: SrvRecord[] | undefined;
  let gone = false;
  let lastError: unknown;
  for (const server of servers) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`Lookup timed out after ${lookup.timeout}ms`)), lookup.timeout);
    const signal = lookup.signal ? AbortSignal.any([ac.signal, lookup.signal]) : ac.signal;
    try {
      records = await srvResolver(bare(name), { ...(server ? { nameServer: server } : {}), signal });
      break;
    } catch (e) {
      lastError = e;
      // NXDOMAIN and "no records of that type" are answers: the name has none.
      if (e instanceof Deno.errors.NotFound) gone = true;
    } finally {
      clearTimeout(timer);
    }
    if (lookup.signal?.aborted) throw lookup.signal.reason;
  }
  if (records === undefined) {
    const error = `SRV lookup of "${name}" failed: ${errorText(lastError)}`;
    return gone ? { kind: "gone", error } : { kind: "failed", error };
  }
  const targets = pickSrvTargets(records);
  if (targets.length === 0) return { kind: "gone", error: `"${name}" has no usable SRV record` };
  const errors: string[] = [];
  const backends: Backend[] = [];
  const resolved = await Promise.all(
    targets.map((t) =>
      resolveHost(t.target, { ...lookup, searchDomains: [] }).catch((e) => {
        errors.push(errorText(e));
        return [] as string[];
      })
    ),
  );
  targets.forEach((t, i) => {
    for (const ip of resolved[i]!) backends.push(toBackend(ip, t.port, t.weight));
  });
  if (backends.length === 0) {
    return { kind: "failed", error: `No target of "${name}" resolves: ${errors.join("; ")}` };
  }
  return { kind: "found", backends };
}

/** The backends a name last had, and when (ms since the epoch). */
export interface SrvKept {
  readonly backends: readonly Backend[];
  readonly at: number;
}

/**
 * Merges one round into what each name keeps: found ⇒ the new backends;
 * gone ⇒ none; failed ⇒ the last ones, while younger than
 * {@linkcode KEEP_FAILED_FOR}. Returns the backends of the round and the
 * errors to report; updates `kept` in place.
 */
export function srvRound(
  results: ReadonlyMap<string, SrvResult>,
  kept: Map<string, SrvKept>,
  now: number,
): { backends: Backend[]; errors: string[] } {
  const backends: Backend[] = [];
  const errors: string[] = [];
  for (const [name, r] of results) {
    if (r.kind === "found") {
      kept.set(name, { backends: r.backends, at: now });
      backends.push(...r.backends);
      continue;
    }
    errors.push(r.error);
    const last = kept.get(name);
    if (r.kind === "gone" || !last || now - last.at >= KEEP_FAILED_FOR) {
      kept.delete(name);
      continue;
    }
    backends.push(...last.backends);
  }
  return { backends, errors };
}
