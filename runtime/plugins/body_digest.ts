/**
 * The body digest `hmac_auth` holds a request to with `validate_body` (Pingap 0.16): the digest a signed
 * `Content-Digest` (RFC 9530, `sha-256=:<base64>:`) or `Digest` (RFC 3230, `SHA-256=<base64>`) names, and a stream
 * that checks the body against it by the length the request declares, comparing before the last byte goes on.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ProxyError } from "../proxy/errors.ts";
import { constantTimeEqual } from "./constant_time.ts";

/** A digest a request names for its body. */
export interface BodyDigest {
  readonly algorithm: "sha256" | "sha512";
  /** Standard padded base64 of the digest. */
  readonly base64: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The first digest of a known algorithm in a `Content-Digest` or `Digest` value, or undefined.
 *
 * @example Usage
 * ```ts
 * import { parseBodyDigest } from "./body_digest.ts";
 * const empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
 * if (parseBodyDigest(`md5=abc, SHA-256=${empty}`)?.algorithm !== "sha256") throw new Error();
 * if (parseBodyDigest("sha-256=:YWJj:") !== undefined) throw new Error();
 * ```
 */
export function parseBodyDigest(value: string): BodyDigest | undefined {
  for (const item of value.split(",")) {
    const eq = item.indexOf("=");
    if (eq < 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    const digest = item.slice(eq + 1).trim().replace(/^:+|:+$/g, "");
    if (!BASE64.test(digest)) continue;
    const size = atob(digest).length;
    if (name === "sha-256" && size === 32) return { algorithm: "sha256", base64: digest };
    if (name === "sha-512" && size === 64) return { algorithm: "sha512", base64: digest };
  }
  return undefined;
}

/** The refusal of a body that is not the one signed (a 401, as Pingap's). */
function notSigned(): ProxyError {
  return new ProxyError(401, "hmac_body", "the body of the request is not the one that was signed");
}

/** Does the digest of no body match? */
export function emptyBodyMatches(digest: BodyDigest): boolean {
  return constantTimeEqual(createHash(digest.algorithm).digest("base64"), digest.base64);
}

/**
 * A stream that passes `body` on while its digest can still match: by the declared `length`, the chunk that completes
 * it is compared before it goes on; more bytes, fewer, or another digest end the stream with a 401 error.
 */
export function checkBodyDigest(
  body: ReadableStream<Uint8Array>,
  digest: BodyDigest,
  length: number,
): ReadableStream<Uint8Array> {
  const hash = createHash(digest.algorithm);
  let seen = 0;
  let done = false;
  return body.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        if (done) {
          if (chunk.byteLength > 0) controller.error(notSigned());
          return;
        }
        seen += chunk.byteLength;
        if (seen > length) return controller.error(notSigned());
        hash.update(chunk);
        if (seen === length) {
          done = true;
          if (!constantTimeEqual(hash.digest("base64"), digest.base64)) return controller.error(notSigned());
        }
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (!done) controller.error(notSigned());
      },
    }),
  );
}
