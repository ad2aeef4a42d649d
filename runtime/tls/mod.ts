/**
 * Serving TLS: the certificate store, the SNI choice, the TLS listener,
 * `is_ca` leaves and the validity checker. See docs/tls.md.
 *
 * A server with `global_certificates = true` terminates TLS on every address, with
 * `Deno.listenTls` ({@linkcode listenDenoTls}) or, for what only it can do, `node:tls`
 * ({@linkcode listenTls}); {@linkcode tlsEngineOf} chooses by the server's config. Each
 * handshake asks the proxy's {@linkcode CertStore} for the
 * certificate of the client's SNI: exact name, then the wildcard one label up,
 * then the default (`is_default`); none fails the handshake. `startProxy`
 * fills the store from `[certificates]` at start and on every reload
 * ({@linkcode loadPlanCertificates}): a reload that adds, removes or replaces
 * a certificate applies to the next handshake, open connections go on.
 *
 * ## Putting a certificate in at run time (ACME)
 *
 * ```ts ignore
 * // `proxy.certificates` is the store of a proxy `startProxy` returned.
 * const certStore = proxy.certificates;
 * // Served from the next handshake on, for `domains` (default: its SAN names).
 * certStore.put("example", { cert: leafAndChainPem, key: keyPem, domains: ["example.com", "*.example.com"] });
 * certStore.get("example")?.certificate.notAfter; // ms, to plan the renewal
 * certStore.delete("example");
 * ```
 *
 * - `put(name, { cert, key, chain?, domains?, isDefault? })` parses and checks
 *   the material (key matches, valid now, domains covered) and throws a
 *   `TypeError` saying what is wrong; nothing changes then.
 * - A certificate put this way stays across config reloads until `delete`,
 *   unless the reloaded config gives `[certificates.<same name>]` its own
 *   `tls_cert`/`tls_key` (written there by ACME, say), which then replaces it.
 * - For a name claimed by two certificates, a `put` one wins over a config one.
 * - The store is per proxy: with `threads` > 1 each worker has its own, so
 *   a certificate obtained at run time must reach the workers through the
 *   config (storage + reload) or be put in each.
 *
 * @module
 */
import { formatPath, material, type Plan, type ServerPlan } from "../../compiler/mod.ts";
import { loadCertificates } from "../storage/mod.ts";
import type { CertStore } from "./store.ts";
import type { ClientAuth, TlsVersionName } from "./listener.ts";
import { type TlsEngineName, tlsEngineOf } from "./engine_choice.ts";

export { type CertInput, CertStore, type StoredCertificate } from "./store.ts";
export { type ClientAuth, listenTls, type TlsClient, type TlsListener, type TlsListenOptions } from "./listener.ts";
export { DEFAULT_NAME, mintedName, pickBySni } from "./sni.ts";
export { type DenoTlsListener, listenDenoTls } from "./deno_listener.ts";
export { type TlsEngineName, tlsEngineOf } from "./engine_choice.ts";
export { CaMinter, type MintedLeaf } from "./ca.ts";
export { checkValidity, startValidityChecker, type ValidityWarning } from "./validity.ts";

/** The TLS settings of a server that terminates TLS. */
export interface ServerTls {
  readonly minVersion: TlsVersionName | undefined;
  readonly maxVersion: TlsVersionName | undefined;
  readonly h2: boolean;
  /** `proxy_protocol`: the TLS listener reads a PROXY header first (a change reopens the listener). */
  readonly proxyProtocol: boolean;
  /** `ja4`: the TLS listener reads each ClientHello and keeps its JA4 fingerprint (a change reopens the listener). */
  readonly ja4: boolean;
  /** `tls_client_ca` is set: client certificates are asked for (a change of mode reopens the listener). */
  readonly clientAuth?: ClientAuth;
  /** The engine that terminates it (runtime/tls/engine_choice.ts): `Deno.listenTls` or `node:tls`. */
  readonly engine: TlsEngineName;
  /** Changes when a setting that needs a new listener changes. */
  readonly key: string;
}

/** The TLS settings of `sp`, or undefined when it serves plain HTTP. */
export function serverTls(sp: ServerPlan): ServerTls | undefined {
  if (!sp.globalCertificates) return undefined;
  const minVersion = sp.tlsMinVersion, maxVersion = sp.tlsMaxVersion;
  const h2 = sp.enabledH2;
  const proxyProtocol = sp.proxyProtocol;
  const ja4 = sp.ja4 === true;
  const mode = sp.tlsClientCa === undefined ? undefined : sp.tlsClientAuth ?? "require";
  const engine = tlsEngineOf(sp);
  return {
    minVersion,
    maxVersion,
    h2,
    proxyProtocol,
    ja4,
    // The CA itself is in the certificate store (read with the certificates), so a new CA applies without a new listener.
    ...(mode ? { clientAuth: { mode, server: sp.name } } : {}),
    engine,
    key: `${engine}:${minVersion ?? ""}-${maxVersion ?? ""}-${h2 ? "h2" : "h1"}${proxyProtocol ? "-pp" : ""}${
      ja4 ? "-ja4" : ""
    }${mode ? `-client-${mode}` : ""}`,
  };
}

/** Thrown when the certificates of a plan cannot be served. */
export class CertificateError extends Error {
  /** One line per problem: key path and message. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Certificates cannot be served:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "CertificateError";
    this.problems = problems;
  }
}

/**
 * Reads and checks the certificates of `plan` and puts them in `store`
 * (replacing the config ones).
 *
 * @param warn Receives warnings (an ACME certificate near or past expiry, TLS settings not honoured).
 * @returns An undo that restores the store as it was (for a swap that fails later).
 * @throws {CertificateError} On any error (file unreadable, key mismatch, expired, not yet valid, domain not
 * covered); the store is then unchanged.
 */
export async function loadPlanCertificates(
  plan: Plan,
  store: CertStore,
  warn: (message: string) => void,
): Promise<() => void> {
  const { diagnostics, certificates, clientCas } = await loadCertificates(plan);
  const line = (d: (typeof diagnostics)[number]) =>
    `${formatPath(d.path)}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`;
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new CertificateError(errors.map(line));
  for (const d of diagnostics) warn(line(d));
  for (const sp of plan.servers) {
    // tls_cipher_list and tls_ciphersuites are not applied: check warns at the keys.
    if (sp.globalCertificates && sp.tlsMinVersion === "tlsv1.1") {
      warn(`servers.${sp.name}.tls_min_version: TLS 1.1 is not offered, 1.2 is`);
    }
  }
  return store.replaceConfig(certificates, clientCas);
}

/**
 * A digest of the certificate files a plan names (and its `tls_client_ca` files), read now, so that a
 * reload of an unchanged config still applies certificate files rewritten in
 * place (a renewal by certbot, say). Inline PEM is part of the config and
 * its hash already; an unreadable file counts as a change, which the reload
 * then reports.
 */
export async function certificateFingerprint(plan: Plan): Promise<string> {
  const parts: string[] = [];
  const home = Deno.env.get("HOME") ?? "";
  for (const c of plan.certificates) {
    for (const value of [c.tlsCert, c.tlsKey, c.tlsChain]) {
      if (value === undefined) continue;
      const m = material(value, home);
      if (m.kind !== "file") continue;
      parts.push(m.path, await Deno.readTextFile(m.path).catch((e) => `unreadable: ${(e as Error).message}`));
    }
  }
  for (const sp of plan.servers) {
    if (sp.tlsClientCa === undefined) continue;
    const m = material(sp.tlsClientCa, home);
    if (m.kind !== "file") continue;
    parts.push(m.path, await Deno.readTextFile(m.path).catch((e) => `unreadable: ${(e as Error).message}`));
  }
  if (parts.length === 0) return "";
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(parts)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
