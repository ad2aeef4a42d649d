/**
 * http-01 challenges being answered: the ACME client registers a token and
 * its key authorization while the CA validates, and every plain-HTTP server
 * answers `GET /.well-known/acme-challenge/<token>` with it, before routing.
 *
 * A token that is not registered falls through to the locations (a backend
 * may run its own ACME client). The pipeline checks
 * {@linkcode ChallengeTokens.pending} first, so with no order in flight a
 * request costs one integer comparison.
 *
 * One {@linkcode ChallengeTokens} lives as long as the proxy (an order in
 * flight outlives a reload): the process makes it and hands it to the ACME
 * service and to every generation it serves.
 *
 * @module
 */
import { responseWith } from "../http/response_build.ts";

/** The path prefix of http-01 challenges (RFC 8555 §8.3). */
export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** Who else must know the tokens (the worker isolates, with `threads` > 1): null means forgotten. */
export type ShareChallenge = (token: string, keyAuthorization: string | null) => Promise<void>;

/**
 * The tokens being answered.
 *
 * @example Usage
 * ```ts
 * import { ChallengeTokens } from "./challenges.ts";
 * const tokens = new ChallengeTokens();
 * await tokens.add("tok", "tok.thumb");
 * const res = tokens.answer("/.well-known/acme-challenge/tok");
 * if ((await res?.text()) !== "tok.thumb") throw new Error();
 * await tokens.remove("tok");
 * ```
 */
export class ChallengeTokens {
  readonly #tokens = new Map<string, string>();
  /** Sends every token registered or forgotten to the workers too, and waits for them (see the constructor). */
  readonly #share: ShareChallenge | undefined;

  /** With `share`, every token registered or forgotten is sent on and waited for (the main isolate with workers). */
  constructor(share?: ShareChallenge) {
    this.#share = share;
  }

  /** How many tokens are registered now. */
  pending(): number {
    return this.#tokens.size;
  }

  /** Registers a token's key authorization until {@linkcode remove}; resolves once every isolate has it. */
  async add(token: string, keyAuthorization: string): Promise<void> {
    this.#tokens.set(token, keyAuthorization);
    await this.#share?.(token, keyAuthorization);
  }

  /** Forgets a token (everywhere it was shared). */
  async remove(token: string): Promise<void> {
    this.#tokens.delete(token);
    await this.#share?.(token, null);
  }

  /**
   * The answer for a request path, or undefined when the path is not a registered challenge. The body is the key
   * authorization as `text/plain`, which is what the CA compares.
   */
  answer(path: string): Response | undefined {
    if (!path.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
    const value = this.#tokens.get(path.slice(ACME_CHALLENGE_PREFIX.length));
    if (value === undefined) return undefined;
    return responseWith(value, {}, { "content-type": "text/plain" });
  }
}
