/**
 * The JSON Web Token rules of the `jwt` plugin that need no key store: where the token is read, the checks of an
 * HMAC-signed token (Pingap's secret path), and the token signed at `auth_path`. Plain functions of their inputs (the
 * clock is a parameter), so the plugin glue in `jwt.ts` stays thin.
 *
 * Pingap 0.16's rules: a token needs `exp` unless `require_exp = false`, `exp`/`nbf` get `leeway` (60 s unless set),
 * and `issuers`, `audiences`, `required_claims` hold the claims of a good token.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./constant_time.ts";

/** Why a token was refused; the 401's body is {@linkcode REJECTION_MESSAGES}[reason]. */
export type JwtRejection = "missing" | "format" | "invalid" | "expired" | "not_yet_valid" | "no_exp";

/** Pingap's bodies of the 401 answers. */
export const REJECTION_MESSAGES: Readonly<Record<JwtRejection, string>> = {
  missing: "Jwt authorization is missing",
  format: "Jwt authorization format is invalid",
  invalid: "Jwt authorization is invalid",
  expired: "Jwt authorization is expired",
  not_yet_valid: "Jwt authorization is not yet valid",
  no_exp: "Jwt authorization has no exp",
};

/** The time rules of a plugin: `leeway` in whole seconds, and whether `exp` is required. */
export interface TimeRules {
  readonly leeway: number;
  readonly requireExp: boolean;
}

/** Pingap 0.16's defaults. */
export const DEFAULT_TIME_RULES: TimeRules = { leeway: 60, requireExp: true };

/** A verified token's claims, or why it was refused. */
export type TokenResult =
  | { readonly ok: true; readonly claims: Record<string, unknown> }
  | { readonly ok: false; readonly reason: JwtRejection };

/** The HMAC algorithms of the secret path, with their hash. */
const HMAC_HASHES: Readonly<Record<string, string>> = { HS256: "sha256", HS384: "sha384", HS512: "sha512" };

/**
 * The token of an `Authorization`-style value: what follows a `Bearer` scheme (any case), else the whole value.
 *
 * @example Usage
 * ```ts
 * import { stripBearer } from "./jwt_token.ts";
 * if (stripBearer("bearer  a.b.c") !== "a.b.c" || stripBearer("a.b.c") !== "a.b.c") throw new Error();
 * ```
 */
export function stripBearer(value: string): string {
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space).toLowerCase() !== "bearer") return value;
  return value.slice(space + 1).replace(/^[ \t]+/, "");
}

/** A query value as Pingap 0.16 reads a token from it: percent-decoded (`+` stays), raw when that fails. */
export function decodeQueryToken(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Strict unpadded base64url (as Rust's `URL_SAFE_NO_PAD` decodes it), or undefined. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - text.length % 4) % 4));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Unpadded base64url of `bytes`. */
export function encodeBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The claims of a payload that is a JSON object, else undefined (an array, a number, broken JSON). */
export function parseClaims(payload: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/** A numeric claim: undefined when absent or null, NaN when it is not a number (the token is then broken). */
function numericClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined || v === null) return undefined;
  return typeof v === "number" ? v : NaN;
}

/**
 * Checks the time claims of a verified token against `now` (seconds): `exp` more than the leeway behind is expired,
 * a missing `exp` is refused when required, `nbf` more than the leeway ahead is not yet valid.
 */
export function checkTimes(
  claims: Record<string, unknown>,
  now: number,
  rules: TimeRules = DEFAULT_TIME_RULES,
): JwtRejection | undefined {
  const exp = numericClaim(claims, "exp");
  const nbf = numericClaim(claims, "nbf");
  if (Number.isNaN(exp) || Number.isNaN(nbf)) return "format";
  if (exp === undefined) {
    if (rules.requireExp) return "no_exp";
  } else if (exp < now - rules.leeway) return "expired";
  if (nbf !== undefined && nbf > now + rules.leeway) return "not_yet_valid";
  return undefined;
}

/** What a plugin holds the claims of a good token to (`issuers`, `audiences`, `required_claims`). */
export interface ClaimRules {
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly requiredClaims: readonly string[];
}

/**
 * Pingap's refusal of a good token that is not for here (the 401 body), or undefined.
 *
 * @example Usage
 * ```ts
 * import { checkClaims } from "./jwt_token.ts";
 * const rules = { issuers: ["https://id.test"], audiences: ["api"], requiredClaims: ["sub"] };
 * if (checkClaims({ iss: "https://id.test", aud: ["web", "api"], sub: "u1" }, rules) !== undefined) throw new Error();
 * if (checkClaims({ iss: "https://id.test", aud: "web" }, rules) !== "Jwt authorization audience is not allowed") {
 *   throw new Error();
 * }
 * ```
 */
export function checkClaims(claims: Record<string, unknown>, rules: ClaimRules): string | undefined {
  if (rules.issuers.length > 0) {
    const iss = claims["iss"];
    if (typeof iss !== "string" || !rules.issuers.includes(iss)) return "Jwt authorization issuer is not allowed";
  }
  if (rules.audiences.length > 0) {
    const aud = claims["aud"];
    const allowed = typeof aud === "string"
      ? rules.audiences.includes(aud)
      : Array.isArray(aud) && aud.some((a) => typeof a === "string" && rules.audiences.includes(a));
    if (!allowed) return "Jwt authorization audience is not allowed";
  }
  for (const name of rules.requiredClaims) {
    if (claims[name] === undefined || claims[name] === null) return `Jwt authorization has no ${name}`;
  }
  return undefined;
}

/**
 * A claim as a header value: text as it is, a number or boolean as written, a list of those joined by commas;
 * undefined for objects, nested lists and text a header cannot carry.
 */
export function claimHeaderValue(value: unknown): string | undefined {
  const scalar = (v: unknown) =>
    typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
  let text: string | undefined;
  if (Array.isArray(value)) {
    const parts = value.map(scalar);
    text = parts.includes(undefined) ? undefined : parts.join(",");
  } else text = scalar(value);
  return text !== undefined && /^[\t\x20-\x7e\x80-\xff]*$/.test(text) ? text : undefined;
}

/** Folds `_` to `-`, as CGI-style upstreams read header names. */
const fold = (name: string) => name.toLowerCase().replaceAll("_", "-");

/**
 * Removes from `headers` every header an upstream may take for one of `own` (the claim headers): the names
 * themselves and their `_` spellings.
 */
export function stripClaimHeaders(headers: Headers, own: readonly string[]): void {
  if (own.length === 0) return;
  const folded = own.map(fold);
  const sent: string[] = [];
  for (const name of headers.keys()) if (folded.includes(fold(name))) sent.push(name);
  for (const name of sent) headers.delete(name);
}

/** The signature of `content` under `secret` with an HMAC algorithm, unpadded base64url. */
export function hmacSignature(alg: string, content: string, secret: string): string {
  return encodeBase64Url(createHmac(HMAC_HASHES[alg]!, secret).update(content).digest());
}

/**
 * Verifies an HMAC-signed token as Pingap's secret path does, in its order: three dot-separated parts (`format`);
 * the header's `alg`, which must be one of `accepted` (the pinned algorithm, or HS256, HS384 and HS512), and the
 * signature,
 * compared in constant time (`invalid`: `none` and every asymmetric `alg` end here); the payload a JSON object
 * (`format`); then the times ({@linkcode checkTimes}). The claims when the token is good.
 *
 * @example Usage
 * ```ts
 * import { verifyHmacToken } from "./jwt_token.ts";
 * const token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1lIjoiSm9obiIsImFkbWluIjp0cnVlLCJleHAiOjIzNDgwNTUyNjV9." +
 *   "j6sYJ2dCCSxskwPmvHM7WniGCbkT30z2BrjfsuQLFJc";
 * if (!verifyHmacToken(token, "123123", ["HS256", "HS512"], 1_700_000_000).ok) throw new Error();
 * const bad = verifyHmacToken(token, "123124", ["HS256", "HS512"], 1_700_000_000);
 * if (bad.ok || bad.reason !== "invalid") throw new Error();
 * ```
 */
export function verifyHmacToken(
  token: string,
  secret: string,
  accepted: readonly string[],
  now: number,
  rules: TimeRules = DEFAULT_TIME_RULES,
): TokenResult {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0 || token.indexOf(".", second + 1) >= 0) return { ok: false, reason: "format" };
  const header = decodeBase64Url(token.slice(0, first));
  const alg = header === undefined ? undefined : parseClaims(header)?.["alg"];
  if (typeof alg !== "string" || !accepted.includes(alg) || HMAC_HASHES[alg] === undefined) {
    return { ok: false, reason: "invalid" };
  }
  if (!constantTimeEqual(hmacSignature(alg, token.slice(0, second), secret), token.slice(second + 1))) {
    return { ok: false, reason: "invalid" };
  }
  const payload = decodeBase64Url(token.slice(first + 1, second));
  const claims = payload === undefined ? undefined : parseClaims(payload);
  if (claims === undefined) return { ok: false, reason: "format" };
  const reason = checkTimes(claims, now, rules);
  return reason === undefined ? { ok: true, claims } : { ok: false, reason };
}

/** Does the body about to be signed at `auth_path` name an expiry (a JSON object with a numeric `exp`)? */
export function hasExp(body: Uint8Array): boolean {
  const claims = parseClaims(body);
  return claims !== undefined && typeof claims["exp"] === "number";
}

/**
 * The token Pingap makes of an `auth_path` response body: the body itself, as it came, is the payload; the header is
 * Pingap's literal `{"alg": "<alg>","typ": "JWT"}`; `algorithm` HS384 or HS512 signs with that, anything else HS256.
 *
 * @example Usage
 * ```ts
 * import { signToken, verifyHmacToken } from "./jwt_token.ts";
 * const token = signToken(new TextEncoder().encode('{"sub":"u1","exp":4102444800}'), "HS256", "s3cret");
 * if (!verifyHmacToken(token, "s3cret", ["HS256"], 1_700_000_000).ok) throw new Error();
 * ```
 */
export function signToken(body: Uint8Array, algorithm: string | undefined, secret: string): string {
  const alg = algorithm === "HS384" || algorithm === "HS512" ? algorithm : "HS256";
  const content = `${encodeBase64Url(new TextEncoder().encode(`{"alg": "${alg}","typ": "JWT"}`))}.${
    encodeBase64Url(body)
  }`;
  return `${content}.${hmacSignature(alg, content, secret)}`;
}
