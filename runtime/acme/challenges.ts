/**
 * http-01 challenges being answered: the ACME client registers a token and
 * its key authorization while the CA validates, and every plain-HTTP server
 * answers `GET /.well-known/acme-challenge/<token>` with it, before routing.
 *
 * A token that is not registered here falls through to the locations (a
 * backend may run its own ACME client). The pipeline checks
 * {@linkcode pendingChallenges} first, so with no order in flight a request
 * costs one integer comparison.
 *
 * @module
 */
import type { HttpResponse } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";

/** The path prefix of http-01 challenges (RFC 8555 §8.3). */
export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

const tokens = new Map<string, string>();

/** Who else must know the tokens (the worker isolates, with `threads` > 1): see {@linkcode shareChallenges}. */
let share: ((token: string, keyAuthorization: string | null) => Promise<void>) | undefined;

/**
 * Sends every token registered or forgotten from now on to `to` as well (null: forgotten), and waits for it: the
 * main isolate runs the ACME client, the workers answer the CA. `undefined` stops it.
 */
export function shareChallenges(to: ((token: string, keyAuthorization: string | null) => Promise<void>) | undefined) {
  share = to;
}

/** How many tokens are registered now. */
export function pendingChallenges(): number {
  return tokens.size;
}

/** Registers a token's key authorization until {@linkcode removeChallenge}; resolves once every isolate has it. */
export async function addChallenge(token: string, keyAuthorization: string): Promise<void> {
  tokens.set(token, keyAuthorization);
  await share?.(token, keyAuthorization);
}

/** Forgets a token (everywhere it was shared). */
export async function removeChallenge(token: string): Promise<void> {
  tokens.delete(token);
  await share?.(token, null);
}

/**
 * The answer for a request path, or undefined when the path is not a
 * registered challenge. The body is the key authorization as
 * `text/plain`, which is what the CA compares.
 *
 * @example Usage
 * ```ts
 * import { addChallenge, answerChallenge, removeChallenge } from "./challenges.ts";
 * addChallenge("tok", "tok.thumb");
 * const res = answerChallenge("/.well-known/acme-challenge/tok");
 * if (res?.whole !== "tok.thumb") throw new Error();
 * removeChallenge("tok");
 * ```
 */
export function answerChallenge(path: string): HttpResponse | undefined {
  if (!path.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
  const value = tokens.get(path.slice(ACME_CHALLENGE_PREFIX.length));
  if (value === undefined) return undefined;
  return responseWith(value, {}, { "content-type": "text/plain" });
}
