/**
 * A remote JSON Web Key Set as Pingap's `jwt` plugin keeps it (`JwksSource`): the keys are fetched on first use and
 * again once older than `ttl`, or when a token's key is not among them; fetches are at least `cooldown` apart,
 * counted from the end of the last attempt, failed or not; a fetch that fails keeps the keys already there. Keys
 * are matched by `kid` (a token without one is tried against every key), through jose's local key set.
 *
 * @module
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";
import { appLog } from "../observe/log/app_log.ts";

/** What a key set needs besides its URL: times in milliseconds, and the clock (a parameter for tests). */
export interface JwksOptions {
  readonly ttl: number;
  readonly cooldown: number;
  /** How long a fetch may take. */
  readonly timeout?: number;
  readonly now?: () => number;
  /** Names the plugin in the log. */
  readonly plugin?: string;
}

/** A remote key set with a TTL cache, one fetch at a time, and a cooldown between fetches. */
export class JwksSource {
  #keys: JWTVerifyGetKey | undefined;
  #fetchedAt = 0;
  #lastAttempt: number | undefined;
  #pending: Promise<void> | undefined;
  readonly #now: () => number;

  /** @param url The key set's URL. */
  constructor(readonly url: string, readonly options: JwksOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** How many fetches were started (for tests and logs). */
  fetches = 0;

  /**
   * The claims of `token` when a key of the set verifies it under `verify` (algorithms, clock tolerance, required
   * claims); undefined otherwise. A miss on fresh keys, or keys past `ttl`, refetch (within the cooldown) and try again.
   */
  async verify(
    token: string,
    verify: Parameters<typeof jwtVerify>[2],
  ): Promise<JWTPayload | undefined> {
    const keys = this.#keys;
    if (keys !== undefined && this.#now() - this.#fetchedAt <= this.options.ttl) {
      const claims = await tryVerify(token, keys, verify);
      if (claims !== undefined) return claims;
    }
    await this.#refresh();
    return this.#keys === undefined ? undefined : await tryVerify(token, this.#keys, verify);
  }

  #refresh(): Promise<void> {
    if (this.#pending) return this.#pending;
    if (this.#lastAttempt !== undefined && this.#now() - this.#lastAttempt < this.options.cooldown) {
      return Promise.resolve();
    }
    this.#pending = this.#fetch().finally(() => {
      this.#lastAttempt = this.#now();
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<void> {
    this.fetches++;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(this.options.timeout ?? 10_000) });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`status ${res.status}`);
      }
      this.#keys = createLocalJWKSet(await res.json() as JSONWebKeySet);
      this.#fetchedAt = this.#now();
    } catch (e) {
      // The keys already there stay: a key set that cannot be read now is no reason to refuse what it verified.
      appLog("error", "fetch jwks failed", { plugin: this.options.plugin, url: this.url, error: String(e) });
    }
  }
}

async function tryVerify(
  token: string,
  keys: JWTVerifyGetKey,
  verify: Parameters<typeof jwtVerify>[2],
): Promise<JWTPayload | undefined> {
  try {
    return (await jwtVerify(token, keys, verify)).payload;
  } catch {
    return undefined;
  }
}
