/**
 * `jwt`: lets a request through only with a valid JSON Web Token, as Pingap's `jwt` plugin (0.16 rules: `exp`
 * required unless `require_exp = false`, `leeway` (60 s), `nbf` checked, `Bearer` in any case, the query token
 * percent-decoded).
 *
 * - The token is read from the first configured of `header` (a `Bearer ` prefix removed), `cookie`, `query`.
 * - With `public_key`: verified with that key under the pinned `algorithm` only (jose); with `jwks_url`: with the
 *   key of the set that the token's `kid` names, asymmetric algorithms only (the pinned one when set); else with
 *   `secret` ({@linkcode verifyHmacToken}). So `alg: none` and algorithm confusion (an HMAC token signed with a
 *   public key as the secret) never pass.
 * - A good token is then held to `issuers`, `audiences` and `required_claims`, and `claims_to_headers` puts claims
 *   on the upstream request (the client's own copies of those headers removed, `_` spellings too).
 * - A refusal is a 401 with Pingap's body; `delay` is waited on a bad signature.
 * - At `auth_path` nothing is checked: the request goes upstream without `Accept-Encoding` (and without the claim
 *   headers), and a 2xx answer's body is signed into `{"token": "<jwt>"}` ({@linkcode signToken}); a coded body, one
 *   without `exp` (when required) or over 1 MiB is a 502.
 *
 * Tokens and secrets are never logged.
 *
 * @module
 */
import { importSPKI, jwtVerify } from "jose";
import { type JwtPlan, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { responseWith } from "../http/response_build.ts";
import { ProxyError } from "../proxy/errors.ts";
import { appLog } from "../observe/log/app_log.ts";
import type { RequestContext } from "../proxy/context.ts";
import { pause } from "./constant_time.ts";
import { JwksSource } from "./jwks_source.ts";
import {
  checkClaims,
  claimHeaderValue,
  decodeQueryToken,
  hasExp,
  type JwtRejection,
  REJECTION_MESSAGES,
  signToken,
  stripBearer,
  stripClaimHeaders,
  verifyHmacToken,
} from "./jwt_token.ts";
import type { PluginAnswer } from "./contract.ts";
import type { HttpResponse } from "../http/message.ts";
import { messageBytes } from "../http/read_capped.ts";
import { runtimePlugin } from "./contract.ts";

/** The algorithms a key from a JWKS may verify (Pingap's `is_asymmetric_alg`). */
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/** The largest `auth_path` answer that is signed; a bigger one is a 502. */
const SIGN_LIMIT = 1024 * 1024;

/** The token a request carries, from the first configured source; "" for none. */
export function tokenOf(ctx: RequestContext, c: JwtPlan): string {
  if (c.header !== undefined) return stripBearer(ctx.header(c.header) ?? "");
  if (c.cookie !== undefined) return ctx.cookie(c.cookie) ?? "";
  if (c.query !== undefined) return decodeQueryToken(ctx.query(c.query) ?? "");
  return "";
}

/** The PEM that jose imports: the compiled key's SPKI form. */
function spkiPem(key: NonNullable<JwtPlan["publicKey"]>): string {
  return `-----BEGIN PUBLIC KEY-----\n${key.spki.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----`;
}

/** How a plugin instance verifies a token with a key (jose): the claims of a good token, or undefined. */
type KeyVerifier = (token: string) => Promise<Record<string, unknown> | undefined>;

function keyVerifier(plan: { name: string }, c: JwtPlan): KeyVerifier | undefined {
  const options = {
    clockTolerance: c.leeway,
    requiredClaims: c.requireExp ? ["exp"] : [],
  };
  if (c.publicKey !== undefined && c.algorithm !== undefined) {
    const alg = c.algorithm;
    const key = Promise.resolve().then(() => importSPKI(spkiPem(c.publicKey!), alg));
    key.catch((e) =>
      appLog("error", "jwt public key cannot be used, every token is refused", { plugin: plan.name, error: String(e) })
    );
    return async (token) => {
      try {
        return (await jwtVerify(token, await key, { ...options, algorithms: [alg] })).payload;
      } catch {
        return undefined;
      }
    };
  }
  if (c.jwksUrl !== undefined) {
    const source = new JwksSource(c.jwksUrl, { ttl: c.jwksTtl, cooldown: c.jwksCooldown, plugin: plan.name });
    const algorithms = c.algorithm !== undefined && ASYMMETRIC.includes(c.algorithm) ? [c.algorithm] : ASYMMETRIC;
    return (token) => source.verify(token, { ...options, algorithms });
  }
  return undefined;
}

/**
 * The `auth_path` answer made a token: a 2xx answer's body becomes the payload; others go as they are. A body that is
 * coded, too big or without `exp` is a 502 (better no token than a wrong one).
 */
export async function signAnswer(res: HttpResponse, c: JwtPlan): Promise<HttpResponse> {
  if (res.status < 200 || res.status > 299) return res;
  const coding = res.headers.get("content-encoding");
  if (coding !== null && coding.toLowerCase() !== "identity") {
    await res.body?.cancel();
    throw new ProxyError(502, "jwt_sign", "jwt: the response to sign has a content encoding");
  }
  const body = await messageBytes(res, SIGN_LIMIT);
  if (body === undefined) throw new ProxyError(502, "jwt_sign", "jwt: the response to sign is too large");
  if (c.requireExp && !hasExp(body)) throw new ProxyError(502, "jwt_sign", "jwt: the response to sign has no exp");
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.set("content-type", "application/json; charset=utf-8");
  const token = signToken(body, c.algorithm, c.secret ?? "");
  return responseWith(`{"token": "${token}"}`, { status: res.status }, headers);
}

/** Creates the jwt plugin. */
export const jwt = runtimePlugin(PLUGIN_DEFINITIONS.jwt, (c, _env, plan) => {
  const fields = [["cache-control", "private, no-cache"]] as const;
  const answers = Object.fromEntries(
    Object.entries(REJECTION_MESSAGES).map(([k, v]) => [k, new StaticAnswer(401, fields, v)]),
  ) as Record<JwtRejection, StaticAnswer>;
  // A good token that is not for here: issuer, audience, or a required claim (a handful of fixed texts).
  const notForHere = new Map<string, StaticAnswer>();
  const refuseClaims = (message: string) => {
    let answer = notForHere.get(message);
    if (answer === undefined) notForHere.set(message, answer = new StaticAnswer(401, fields, message));
    return answer;
  };
  const accepted = c.algorithm !== undefined ? [c.algorithm] : ["HS256", "HS384", "HS512"];
  const rules = { leeway: c.leeway, requireExp: c.requireExp };
  const ownHeaders = c.claimsToHeaders.map((h) => h.header);
  const verifyWithKey = keyVerifier(plan, c);
  const sign = (res: HttpResponse) => signAnswer(res, c);
  const refuse = (reason: JwtRejection): PluginAnswer | Promise<PluginAnswer> =>
    reason === "invalid" ? pause(c.delay)?.then(() => answers.invalid) ?? answers.invalid : answers[reason];
  /** The claims of a good token against the rules, then onto the upstream request. */
  const admit = (ctx: RequestContext, claims: Record<string, unknown>): PluginAnswer | undefined => {
    const refusal = checkClaims(claims, c);
    if (refusal !== undefined) return refuseClaims(refusal);
    if (ownHeaders.length > 0) {
      const headers = ctx.upstreamHeaders;
      stripClaimHeaders(headers, ownHeaders);
      for (const { claim, header } of c.claimsToHeaders) {
        const value = claimHeaderValue(claims[claim]);
        if (value !== undefined) headers.set(header, value);
      }
    }
    return undefined;
  };
  return {
    request(ctx) {
      if (c.authPath !== "" && ctx.path === c.authPath) {
        ctx.upstreamHeaders.delete("accept-encoding");
        stripClaimHeaders(ctx.upstreamHeaders, ownHeaders);
        ctx.answerFilter = sign;
        return undefined;
      }
      const token = tokenOf(ctx, c);
      if (token === "") return answers.missing;
      if (verifyWithKey) {
        return verifyWithKey(token).then((claims) => claims === undefined ? refuse("invalid") : admit(ctx, claims));
      }
      const r = verifyHmacToken(token, c.secret ?? "", accepted, Math.floor(Date.now() / 1000), rules);
      return r.ok ? admit(ctx, r.claims) : refuse(r.reason);
    },
  };
});
