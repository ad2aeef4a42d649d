/**
 * `hmac_auth` (Pingap 0.16): requests signed with a shared secret, as HTTP Signatures (draft-cavage) has it:
 * `Authorization: Signature keyId="app1",algorithm="hmac-sha256",headers="(request-target) host date",
 * signature="<base64>"`. The signed text is one line per name of `headers`, joined by `\n`:
 * `(request-target): <method in lower case> <path?query as the client sent it>`, or `<name>: <values joined by ", ">`.
 * Pingap's checks and words, in its order; a refusal is a 401 with `WWW-Authenticate: Signature realm="pingap",
 * headers="…"`. With `validate_body`, the body is held to the signed `Content-Digest`/`Digest` as it streams
 * (`body_digest.ts`). Signatures are compared in constant time and never logged.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { type HmacAuthPlan, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { type BodyDigest, checkBodyDigest, emptyBodyMatches, parseBodyDigest } from "./body_digest.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { runtimePlugin } from "./contract.ts";

const REQUEST_TARGET = "(request-target)";

/** The parameters of `Authorization: Signature …`. */
export interface SignatureParams {
  readonly keyId: string;
  readonly algorithm: string;
  /** Lower-case names of what is signed, in order (`date` alone when the client lists none). */
  readonly headers: readonly string[];
  readonly signature: string;
}

/**
 * The parameters of a `Signature` Authorization value, each `name="value"` (no quote inside); undefined for another
 * scheme, a parameter that is not quoted, or no `keyId` or `signature`.
 *
 * @example Usage
 * ```ts
 * import { parseSignature } from "./hmac_auth.ts";
 * const p = parseSignature('Signature keyId="a", headers="(request-target) Host",signature="s="');
 * if (p?.keyId !== "a" || p.headers.join() !== "(request-target),host" || parseSignature("Basic x")) throw new Error();
 * ```
 */
export function parseSignature(value: string): SignatureParams | undefined {
  const text = value.trim();
  const space = text.indexOf(" ");
  if (space < 0 || text.slice(0, space).toLowerCase() !== "signature") return undefined;
  let rest = text.slice(space + 1);
  let keyId = "", algorithm = "", signature = "";
  let headers: string | undefined;
  for (;;) {
    rest = rest.replace(/^[ ,]+/, "");
    if (rest === "") break;
    const eq = rest.indexOf("=");
    if (eq < 0 || rest[eq + 1] !== '"') return undefined;
    const close = rest.indexOf('"', eq + 2);
    if (close < 0) return undefined;
    const v = rest.slice(eq + 2, close);
    switch (rest.slice(0, eq).trim()) {
      case "keyId":
        keyId = v;
        break;
      case "algorithm":
        algorithm = v;
        break;
      case "headers":
        headers = v;
        break;
      case "signature":
        signature = v;
        break;
    }
    rest = rest.slice(close + 1);
  }
  if (keyId === "" || signature === "") return undefined;
  const names = (headers ?? "date").split(/[ \t\n\f\r]+/).filter((n) => n !== "").map((n) => n.toLowerCase());
  return { keyId, algorithm, headers: names, signature };
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const ZONES: Readonly<Record<string, number>> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  edt: -4,
  est: -5,
  cdt: -5,
  cst: -6,
  mdt: -6,
  mst: -7,
  pdt: -7,
  pst: -8,
};
const RFC2822 =
  /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|[A-Za-z]{1,3})$/;

/**
 * Seconds since the epoch of a `Date` or `X-Date` value: an integer, or an RFC 2822 date; else undefined.
 *
 * @example Usage
 * ```ts
 * import { parseRequestTime } from "./hmac_auth.ts";
 * if (parseRequestTime("Fri, 09 Oct 2026 08:00:00 GMT") !== 1791532800) throw new Error();
 * if (parseRequestTime(" 1791532800 ") !== 1791532800 || parseRequestTime("yesterday") !== undefined) throw new Error();
 * ```
 */
export function parseRequestTime(value: string): number | undefined {
  const text = value.trim();
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  const m = RFC2822.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  const zone = m[7]!;
  const offset = /^[+-]/.test(zone)
    ? (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)))
    : ZONES[zone.toLowerCase()] === undefined
    ? undefined
    : ZONES[zone.toLowerCase()]! * 60;
  const [day, hour, minute, second] = [Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (month < 0 || offset === undefined || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  const ms = Date.UTC(Number(m[3]), month, day, hour, minute, second);
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms / 1000 - offset * 60;
}

/** What a signed request shows the plugin. */
export interface SignedRequest {
  readonly method: string;
  /** The target as the client sent it (path and query). */
  readonly target: string;
  /** A header's values joined by `, `, or null. */
  header(name: string): string | null;
}

const TEXT = /^[\t\x20-\x7e]*$/;
/** Padded standard base64, as a signature must be to decode. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HASHES: Readonly<Record<string, string>> = { "": "sha256", "hmac-sha256": "sha256", "hmac-sha512": "sha512" };

/** A signed request that passed, with the body digest it signed (`content-digest`, else `digest`), or a refusal. */
export type SignedResult = { readonly ok: true; readonly digest?: BodyDigest } | {
  readonly ok: false;
  readonly reason: string;
};

/** Checks a signed request in Pingap's order and words (`now` in unix seconds). */
export function verifySignedRequest(
  req: SignedRequest,
  plan: Pick<HmacAuthPlan, "keys" | "signedHeaders" | "clockSkew">,
  now: number,
): SignedResult {
  const no = (reason: string): SignedResult => ({ ok: false, reason });
  const authorization = req.header("authorization");
  const params = authorization === null ? undefined : parseSignature(authorization);
  if (params === undefined) return no("Signature missing");
  const signed = (name: string) => params.headers.includes(name);
  if (!signed(REQUEST_TARGET)) return no("Signature should cover (request-target)");
  for (const name of plan.signedHeaders) {
    if (!signed(name) && !(name === "date" && signed("x-date"))) {
      return no("Signature does not cover a required header");
    }
  }
  const lines: string[] = [];
  let time: number | undefined | null = null;
  let digest: BodyDigest | undefined;
  for (const name of params.headers) {
    if (name === REQUEST_TARGET) {
      lines.push(`${REQUEST_TARGET}: ${req.method.toLowerCase()} ${req.target}`);
      continue;
    }
    const value = req.header(name);
    if (value === null || !TEXT.test(value)) return no("A signed header is not in the request, or is not text");
    if (name === "x-date" || (name === "date" && time === null)) time = parseRequestTime(value);
    if (name === "content-digest") digest = parseBodyDigest(value);
    else if (name === "digest" && digest === undefined) digest = parseBodyDigest(value);
    lines.push(`${name}: ${value}`);
  }
  if (time === undefined) return no("The date of the request is not a date");
  if (time !== null && Math.abs(now - time) > plan.clockSkew) return no("The date of the request is too far from now");
  const secret = plan.keys.get(params.keyId);
  if (secret === undefined) return no("Signature invalid");
  if (!BASE64.test(params.signature)) return no("Signature invalid");
  const hash = HASHES[params.algorithm.toLowerCase()];
  if (hash === undefined) return no("Signature algorithm is not supported");
  const expected = createHmac(hash, secret).update(lines.join("\n")).digest("base64");
  if (!constantTimeEqual(expected, params.signature)) return no("Signature invalid");
  return digest === undefined ? { ok: true } : { ok: true, digest };
}

/**
 * Pingap's reason for refusing a signed request, or undefined when it passes (`now` in unix seconds).
 *
 * @example Usage
 * ```ts
 * import { checkSignedRequest } from "./hmac_auth.ts";
 * const plan = { keys: new Map([["app1", "s3cret"]]), signedHeaders: ["host", "date"], clockSkew: 300 };
 * const req = { method: "GET", target: "/", header: () => null };
 * if (checkSignedRequest(req, plan, 0) !== "Signature missing") throw new Error();
 * ```
 */
export function checkSignedRequest(
  req: SignedRequest,
  plan: Pick<HmacAuthPlan, "keys" | "signedHeaders" | "clockSkew">,
  now: number,
): string | undefined {
  const r = verifySignedRequest(req, plan, now);
  return r.ok ? undefined : r.reason;
}

/**
 * How long the body is, by what the request says: its `Content-Length`; none with a `Transfer-Encoding` (or an
 * unreadable length); 0 for a request without either and without a body.
 */
export function declaredLength(header: (name: string) => string | null, hasBody: boolean): number | undefined {
  if (header("transfer-encoding") !== null) return undefined;
  const length = header("content-length");
  if (length !== null) return /^\d+$/.test(length.trim()) ? Number(length.trim()) : undefined;
  return hasBody ? undefined : 0;
}

/** The path and query of an absolute URL, as it is written. */
function pathAndQuery(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const hash = url.indexOf("#", start);
  return hash < 0 ? url.slice(start) : url.slice(start, hash);
}

/** Creates the hmac_auth plugin. */
export const hmacAuth = runtimePlugin(PLUGIN_DEFINITIONS.hmacAuth, (c) => {
  const fields = [["cache-control", "private, no-cache"], ["www-authenticate", c.challenge]] as const;
  const answers = new Map<string, StaticAnswer>();
  const refuse = (reason: string) => {
    let answer = answers.get(reason);
    if (answer === undefined) answers.set(reason, answer = new StaticAnswer(401, fields, reason));
    return answer;
  };
  const lengthRequired = new StaticAnswer(
    411,
    [["cache-control", "private, no-cache"]],
    "A signed body needs a Content-Length",
  );
  return {
    request(ctx) {
      const req = ctx.req;
      const header = (name: string) => ctx.header(name);
      const r = verifySignedRequest(
        {
          method: ctx.method,
          target: "target" in req && typeof req.target === "string" ? req.target : pathAndQuery(req.url),
          header,
        },
        c,
        Math.floor(Date.now() / 1000),
      );
      if (!r.ok) return refuse(r.reason);
      if (c.validateBody) {
        // A body of unknown length cannot be held to a digest before the upstream has all of it.
        const length = declaredLength(header, req.body !== null);
        if (length === undefined) return lengthRequired;
        if (r.digest === undefined) {
          if (length > 0) return refuse("Signature should cover the digest of the body");
        } else if (length === 0) {
          if (!emptyBodyMatches(r.digest)) return refuse("Signature invalid");
        } else {
          const digest = r.digest;
          ctx.bodyFilter = (body) => checkBodyDigest(body, digest, length);
        }
      }
      if (c.hideCredentials) ctx.upstreamHeaders.delete("authorization");
      return undefined;
    },
  };
});
