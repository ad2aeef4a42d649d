/**
 * `basic_auth`'s `htpasswd` accounts (Pingap 0.16): passwords kept as a bcrypt or argon2 hash. A hash is slow on
 * purpose, so it is computed in a worker (password_verifier.ts), and credentials that passed are remembered for
 * {@linkcode VERIFIED_TTL} by an HMAC of them under a key only this instance has: what is in memory is of no more use to
 * whoever reads it than the hash in the config. A user that is not there is checked against the first account's hash
 * all the same, so the time taken does not tell "no such user" from "wrong password".
 *
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";
import type { HashedAccount } from "../../compiler/mod.ts";
import { holdPasswordVerifier, releasePasswordVerifier, verifyPasswordHash } from "./password_verifier.ts";

/** How long credentials that passed a hash stay verified. */
export const VERIFIED_TTL = 5 * 60_000;

/** Credentials remembered at once; when full, the memory starts over (each is hashed once more). */
const VERIFIED_CAPACITY = 1024;

/** The hashed accounts of one plugin instance, with what keeps each request from costing a hash. */
export class HashedAccounts {
  readonly #accounts: readonly HashedAccount[];
  readonly #key = randomBytes(32);
  readonly #verified = new Map<string, number>();

  constructor(accounts: readonly HashedAccount[]) {
    this.#accounts = accounts;
    holdPasswordVerifier();
  }

  #digest(credentials: string): string {
    return createHmac("sha256", this.#key).update(credentials).digest("base64");
  }

  /** Whether `credentials` (as in the header, base64) passed a hash less than {@linkcode VERIFIED_TTL} ago. */
  isVerified(credentials: string, now: number = Date.now()): boolean {
    const until = this.#verified.get(this.#digest(credentials));
    return until !== undefined && until > now;
  }

  /**
   * Whether `credentials` (as in the header, base64 of `user:password`) are an account's, by computing its hash;
   * undefined when `stillAllowed`, asked once the hash has its turn, says no.
   */
  async verify(credentials: string, stillAllowed: () => boolean): Promise<boolean | undefined> {
    let decoded: Uint8Array;
    try {
      decoded = Uint8Array.from(atob(credentials), (c) => c.charCodeAt(0));
    } catch {
      return false;
    }
    const colon = decoded.indexOf(0x3a);
    const user = new TextDecoder().decode(colon < 0 ? decoded : decoded.subarray(0, colon));
    const password = colon < 0 ? new Uint8Array(0) : decoded.slice(colon + 1);
    const account = this.#accounts.find((a) => a.user === user);
    const against = account ?? this.#accounts[0];
    if (against === undefined) return false;
    const ok = await verifyPasswordHash(against.kind, password, against.hash, stillAllowed);
    if (ok === undefined) return undefined;
    if (!ok || account === undefined) return false;
    this.#remember(credentials, Date.now());
    return true;
  }

  #remember(credentials: string, now: number): void {
    for (const [digest, until] of this.#verified) if (until <= now) this.#verified.delete(digest);
    if (this.#verified.size >= VERIFIED_CAPACITY) this.#verified.clear();
    this.#verified.set(this.#digest(credentials), now + VERIFIED_TTL);
  }

  /** Lets go of the hash worker. */
  dispose(): void {
    releasePasswordVerifier();
  }
}
