/**
 * `is_ca`: a CA certificate that mints a leaf for each SNI on the fly
 * (inventory §8.4). The leaf's CN is {@linkcode mintedName} of the SNI, its
 * subject O/OU are the CA's, it is valid from a day ago to the earlier of the
 * CA's end and two years from now, and its key is a fresh ECDSA P-256 key.
 * Leaves are cached per CN; a cleanup at most once a day (run by the next
 * mint) drops leaves expired for more than two days and those unused since
 * the previous cleanup.
 *
 * Minting uses `npm:@peculiar/x509` over WebCrypto (about 6 ms a leaf on our
 * machines, once per name), loaded only when an `is_ca` certificate mints
 * its first leaf; it needs the `reflect-metadata` polyfill, loaded with it.
 *
 * @module
 */
import { createPrivateKey } from "node:crypto";
import { mintedName } from "./sni.ts";

const DAY = 86_400_000;

/** A leaf minted by a CA. */
export interface MintedLeaf {
  readonly name: string;
  /** Leaf then CA certificate, PEM. */
  readonly cert: string;
  readonly key: string;
  readonly notAfter: number;
}

interface Cached {
  readonly leaf: Promise<MintedLeaf>;
  notAfter: number;
  stale: boolean;
}

/** The CA material: certificate and key, PEM. */
export interface CaMaterial {
  readonly cert: string;
  readonly key: string;
}

function signingAlgorithm(
  keyPem: string,
): { import: EcKeyImportParams | RsaHashedImportParams | Algorithm; sign: Algorithm } {
  const k = createPrivateKey(keyPem);
  if (k.asymmetricKeyType === "rsa") {
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    return { import: alg, sign: alg };
  }
  if (k.asymmetricKeyType === "ec") {
    const curve = k.asymmetricKeyDetails?.namedCurve;
    const [namedCurve, hash] = curve === "secp384r1" ? ["P-384", "SHA-384"] : ["P-256", "SHA-256"];
    return { import: { name: "ECDSA", namedCurve } as EcKeyImportParams, sign: { name: "ECDSA", hash } as Algorithm };
  }
  if (k.asymmetricKeyType === "ed25519") return { import: { name: "Ed25519" }, sign: { name: "Ed25519" } };
  throw new TypeError(`Cannot mint leaves with a "${k.asymmetricKeyType}" CA key: use RSA, EC P-256/P-384 or Ed25519`);
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;
}

/** Mints and caches leaves for one CA certificate. */
export class CaMinter {
  readonly #ca: CaMaterial;
  readonly #cache = new Map<string, Cached>();
  #lastCleanup = Date.now();

  /** @param ca The CA certificate (first PEM block used) and its key. */
  constructor(ca: CaMaterial) {
    this.#ca = ca;
  }

  /** Leaves cached now. */
  get size(): number {
    return this.#cache.size;
  }

  /** The leaf for `servername` (minted on first use), or a rejection when it cannot be minted. */
  leaf(servername: string, now: number = Date.now()): Promise<MintedLeaf> {
    if (now - this.#lastCleanup >= DAY) this.cleanup(now);
    const name = mintedName(servername);
    let c = this.#cache.get(name);
    if (!c || c.notAfter < now) {
      const leaf = this.#mint(name, now);
      const entry: Cached = { leaf, notAfter: Infinity, stale: false };
      leaf.then((l) => entry.notAfter = l.notAfter, () => this.#cache.delete(name));
      this.#cache.set(name, entry);
      c = entry;
    }
    c.stale = false;
    return c.leaf;
  }

  /** Drops leaves expired for more than two days, and those unused since the previous cleanup. */
  cleanup(now: number = Date.now()): void {
    this.#lastCleanup = now;
    for (const [name, c] of this.#cache) {
      if (c.stale || c.notAfter + 2 * DAY < now) this.#cache.delete(name);
      else c.stale = true;
    }
  }

  async #mint(name: string, now: number): Promise<MintedLeaf> {
    await import("reflect-metadata");
    const x509 = await import("@peculiar/x509");
    const ca = new x509.X509Certificate(this.#ca.cert);
    const alg = signingAlgorithm(this.#ca.key);
    const caKeyDer = createPrivateKey(this.#ca.key).export({ format: "der", type: "pkcs8" });
    const signingKey = await crypto.subtle.importKey("pkcs8", new Uint8Array(caKeyDer), alg.import, false, ["sign"]);
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const notAfter = Math.min(ca.notAfter.getTime(), now + 730 * DAY);
    const org = ca.subjectName.toJSON().flatMap((rdn) =>
      Object.entries(rdn).filter(([k]) => k === "O" || k === "OU").flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`))
    );
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: "01" + crypto.randomUUID().replaceAll("-", ""),
      subject: [...org, `CN=${name}`].join(", "),
      issuer: ca.subject,
      notBefore: new Date(now - DAY),
      notAfter: new Date(notAfter),
      signingAlgorithm: alg.sign,
      publicKey: keys.publicKey,
      signingKey,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: "dns", value: name }]),
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    const key = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey));
    return { name, cert: leaf.toString("pem") + "\n" + ca.toString("pem") + "\n", key, notAfter };
  }
}
