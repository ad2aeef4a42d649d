/**
 * The certificate store: every certificate of the config plus those put at
 * run time (ACME), indexed by SNI name. Each TLS handshake asks it, so a
 * change applies to the next handshake; open connections keep the
 * certificate they started with. A proxy has one (`startProxy` makes it, or
 * is given it): each generation puts its config's certificates in, the ACME
 * service its own.
 *
 * @module
 */
import { createSecureContext, type SecureContext, type SecureVersion } from "node:tls";
import { inspectCertificate, type InspectedCertificate } from "../../compiler/mod.ts";
import { CaMinter } from "./ca.ts";
import { DEFAULT_NAME, pickBySni } from "./sni.ts";

/** A certificate given at run time with {@linkcode CertStore.put}. */
export interface CertInput {
  /** Certificate PEM; PEM blocks after the first are the chain. */
  readonly cert: string;
  /** Private key PEM. */
  readonly key: string;
  /** More chain certificates, PEM. */
  readonly chain?: string;
  /** SNI names served (default: the certificate's SAN names). */
  readonly domains?: readonly string[];
  /** Also serve it when nothing else matches. */
  readonly isDefault?: boolean;
}

/** A certificate in the store. */
export interface StoredCertificate {
  readonly name: string;
  /** `config` for `[certificates]`, `runtime` for {@linkcode CertStore.put}. */
  readonly origin: "config" | "runtime";
  readonly certificate: InspectedCertificate;
}

/** TLS versions a context allows (they live in the context chosen by SNI, not in the server). */
export interface ContextVersions {
  readonly minVersion?: SecureVersion | undefined;
  readonly maxVersion?: SecureVersion | undefined;
}

interface Entry extends StoredCertificate {
  /** Stands for the material: kept while the material is unchanged, so are the TLS contexts built for it. */
  readonly material: object;
  minter?: CaMinter;
}

/** The leaf an `is_ca` entry mints for `servername` (its minter made on first use); undefined without a name. */
function minted(e: Entry, servername: string | undefined): Promise<Awaited<ReturnType<CaMinter["leaf"]>>> | undefined {
  if (!servername) return undefined;
  e.minter ??= new CaMinter({ cert: e.certificate.leaf, key: e.certificate.key });
  return e.minter.leaf(servername);
}

/**
 * TLS contexts by owner (a stored certificate or a minted leaf), then by versions and client CA (`tls_client_ca`, ""
 * for none): built once each. The client CA is part of the context: the handshake checks a client certificate against
 * the CA of the context the SNI callback chose.
 */
const contexts = new WeakMap<object, Map<string, SecureContext>>();

function contextOf(
  owner: object,
  cert: string,
  key: string,
  versions: ContextVersions,
  clientCa: string | undefined,
): SecureContext {
  let byVersions = contexts.get(owner);
  if (!byVersions) contexts.set(owner, byVersions = new Map());
  const k = clientCa === undefined
    ? `${versions.minVersion ?? ""}-${versions.maxVersion ?? ""}`
    : `${versions.minVersion ?? ""}-${versions.maxVersion ?? ""}-${caId(clientCa)}`;
  let ctx = byVersions.get(k);
  if (!ctx) {
    byVersions.set(k, ctx = createSecureContext({ ...versions, cert, key, ...(clientCa ? { ca: clientCa } : {}) }));
  }
  return ctx;
}

/** A short id per client CA text (a reload that keeps the CA keeps its id, so its contexts). */
const caIds = new Map<string, number>();
function caId(pem: string): number {
  let id = caIds.get(pem);
  if (id === undefined) caIds.set(pem, id = caIds.size + 1);
  return id;
}

/** Do both indexes serve each name the same material? */
function sameServing(a: ReadonlyMap<string, Entry>, b: ReadonlyMap<string, Entry>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, e] of a) if (b.get(name)?.material !== e.material) return false;
  return true;
}

/** Certificates by name and by SNI name. */
export class CertStore {
  #entries = new Map<string, Entry>();
  #index = new Map<string, Entry>();
  /** `tls_client_ca` PEM by server name, from the config. */
  #clientCas: ReadonlyMap<string, string> = new Map();
  /** Told when the certificate served for some name changes (runtime/tls/deno_listener.ts: its cache goes stale). */
  #watchers = new Set<() => void>();

  /**
   * Adds or replaces the certificate `name` at run time; the next handshake
   * serves it. A `runtime` certificate stays across config reloads until
   * {@linkcode delete} (or a reload gives `[certificates.<name>]` material,
   * which then wins).
   *
   * @throws {TypeError} When the material does not parse, the key does not
   * match, it is not valid now, or a domain is not covered.
   */
  put(name: string, input: CertInput): StoredCertificate {
    const r = inspectCertificate(
      name,
      {
        ...(input.domains ? { domains: [...input.domains] } : {}),
        ...(input.isDefault ? { is_default: true } : {}),
      },
      { cert: input.cert, key: input.key, chain: input.chain },
    );
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    if (!r.certificate || errors.length > 0) {
      throw new TypeError(`Cannot put certificate "${name}": ${errors.map((d) => d.message).join("; ")}`);
    }
    const entry: Entry = { name, origin: "runtime", certificate: r.certificate, material: {} };
    this.#entries.set(name, entry);
    this.#reindex();
    return entry;
  }

  /** Removes the certificate `name`; true when it was there. */
  delete(name: string): boolean {
    const had = this.#entries.delete(name);
    if (had) this.#reindex();
    return had;
  }

  /** The certificate `name`. */
  get(name: string): StoredCertificate | undefined {
    return this.#entries.get(name);
  }

  /** Every certificate. */
  list(): StoredCertificate[] {
    return [...this.#entries.values()];
  }

  /**
   * Replaces the config certificates with `certs` (runtime ones stay, unless
   * the config now has the same name). Unchanged certificates keep their
   * TLS context and minted leaves. `clientCas` replaces the client CAs of the servers (`tls_client_ca`, by server
   * name), read by {@linkcode clientCa} at each handshake.
   *
   * @returns An undo, restoring the store as it was.
   */
  replaceConfig(
    certs: readonly InspectedCertificate[],
    clientCas: ReadonlyMap<string, string> = new Map(),
  ): () => void {
    const before = this.#entries, casBefore = this.#clientCas;
    this.#clientCas = clientCas;
    const next = new Map<string, Entry>();
    for (const e of before.values()) if (e.origin === "runtime") next.set(e.name, e);
    for (const c of certs) {
      const old = before.get(c.name);
      const same = old?.origin === "config" && old.certificate.leaf === c.leaf && old.certificate.key === c.key &&
        old.certificate.chain.join() === c.chain.join() && old.certificate.domains.join() === c.domains.join() &&
        old.certificate.isDefault === c.isDefault && old.certificate.isCa === c.isCa;
      // The same material keeps its TLS contexts and minted leaves; the metadata (buffer_days…) is the new one.
      next.set(
        c.name,
        same ? { ...old, certificate: c } : { name: c.name, origin: "config", certificate: c, material: {} },
      );
    }
    this.#entries = next;
    this.#reindex();
    return () => {
      this.#entries = before;
      this.#clientCas = casBefore;
      this.#reindex();
    };
  }

  /** The client CA (`tls_client_ca`, PEM) of server `server`, if it has one. */
  clientCa(server: string): string | undefined {
    return this.#clientCas.get(server);
  }

  /**
   * Calls `onChange` after each change of what some SNI name is served (a certificate put, deleted, or replaced by a
   * reload with other material; a reload that keeps every certificate's material calls nothing).
   *
   * @returns Stops watching.
   */
  watch(onChange: () => void): () => void {
    this.#watchers.add(onChange);
    return () => void this.#watchers.delete(onChange);
  }

  /**
   * The PEM certificate (leaf then chain) and key for a handshake with `servername`, as {@linkcode context} picks it
   * (exact, wildcard, default; a leaf minted by an `is_ca` certificate, with its `notAfter` in ms, after which the
   * minter makes a new one); undefined when none matches.
   */
  async pem(servername: string | undefined): Promise<{ cert: string; key: string; notAfter?: number } | undefined> {
    const e = pickBySni(this.#index, servername);
    if (!e) return undefined;
    if (e.certificate.isCa) {
      const leaf = await minted(e, servername);
      return leaf && { cert: leaf.cert, key: leaf.key, notAfter: leaf.notAfter };
    }
    return { cert: e.certificate.leaf + e.certificate.chain.join(""), key: e.certificate.key };
  }

  /**
   * The PEM certificate and key served for every SNI name, when one certificate serves them all: it is the only one in
   * the store and the default (`is_default`, not `is_ca`). Undefined otherwise (then the choice is per name).
   */
  soleDefault(): { cert: string; key: string } | undefined {
    const e = this.#index.get(DEFAULT_NAME);
    if (e === undefined || e.certificate.isCa) return undefined;
    for (const other of this.#index.values()) if (other !== e) return undefined;
    return { cert: e.certificate.leaf + e.certificate.chain.join(""), key: e.certificate.key };
  }

  /** The certificate serving `servername` (exact, wildcard, default), if any. */
  lookup(servername: string | undefined): StoredCertificate | undefined {
    return pickBySni(this.#index, servername);
  }

  /**
   * The TLS context for a handshake with `servername`; undefined when no
   * certificate matches. A CA certificate (`is_ca`) mints a leaf for the name. With `clientCa` (PEM), the context
   * checks client certificates against it.
   */
  async context(
    servername: string | undefined,
    versions: ContextVersions = {},
    clientCa?: string,
  ): Promise<SecureContext | undefined> {
    const e = pickBySni(this.#index, servername);
    if (!e) return undefined;
    if (e.certificate.isCa) {
      const leaf = await minted(e, servername);
      return leaf && contextOf(leaf, leaf.cert, leaf.key, versions, clientCa);
    }
    return contextOf(
      e.material,
      e.certificate.leaf + e.certificate.chain.join(""),
      e.certificate.key,
      versions,
      clientCa,
    );
  }

  #reindex(): void {
    // Runtime certificates first: an ACME certificate wins over a config one claiming the same name.
    const ordered = [...this.#entries.values()].sort((
      a,
      b,
    ) => (a.origin === b.origin ? 0 : a.origin === "runtime" ? -1 : 1));
    const index = new Map<string, Entry>();
    for (const e of ordered) {
      for (const d of e.certificate.domains) if (!index.has(d)) index.set(d, e);
      if (e.certificate.isDefault && !index.has(DEFAULT_NAME)) index.set(DEFAULT_NAME, e);
    }
    const before = this.#index;
    this.#index = index;
    if (this.#watchers.size > 0 && !sameServing(before, index)) { for (const w of this.#watchers) w(); }
  }
}
