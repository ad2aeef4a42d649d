/**
 * `jwt`: verifies a JSON Web Token, and can sign tokens for a login path.
 *
 * @module
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { SECONDS_LIMIT } from "../units.ts";
import { diag, type Diagnostic, type KeyPath } from "../diagnostic.ts";
import { array, bool, duration, field, oneOf, str } from "../schema/types.ts";
import { decodeBase64 } from "./_base64.ts";
import { headerNameType, httpUrl } from "./_types.ts";
import { claimsToHeaders as parseClaims } from "./_claims_to_headers.ts";
import { definePlugin } from "./define.ts";

/** Algorithms verified with the shared `secret`. */
const SECRET_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
/** Algorithms verified with `public_key` (or a JWKS key). */
const KEY_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"] as const;
/** Every algorithm name `algorithm` accepts. */
export const ALGORITHMS = [...SECRET_ALGORITHMS, ...KEY_ALGORITHMS, "EdDSA"] as const;

/** A JWT algorithm name. */
export type JwtAlgorithm = typeof ALGORITHMS[number];

/** A PEM public key, checked for shape at compile time. */
export interface PemKey {
  /** The PEM label, e.g. `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1). */
  readonly label: string;
  /** The DER bytes, base64 (the PEM body without line breaks). */
  readonly der: string;
  /** The same key as SPKI DER, base64 (what the runtime imports, whatever the PEM's form). */
  readonly spki: string;
}

/** Compiled `jwt` config. */
export interface JwtPlan {
  /** Lower-cased header holding the token (a `Bearer ` prefix is stripped). Checked first. */
  readonly header?: string;
  /** Cookie holding the token. Checked second. */
  readonly cookie?: string;
  /** Query parameter holding the token. Checked last. */
  readonly query?: string;
  /** HMAC secret (for HS256/HS384/HS512 tokens and for signing at `authPath`). */
  readonly secret?: string;
  /** Pinned algorithm; absent accepts HS256, HS384 and HS512. */
  readonly algorithm?: JwtAlgorithm;
  /** Public key for the pinned asymmetric algorithm. */
  readonly publicKey?: PemKey;
  /** JWKS endpoint whose keys are looked up by `kid`. */
  readonly jwksUrl?: string;
  /** JWKS cache lifetime, in milliseconds. */
  readonly jwksTtl: number;
  /** Minimum time between two JWKS fetches, `min(jwksTtl, 10s)`, in milliseconds. */
  readonly jwksCooldown: number;
  /** Requests to this path skip verification and get their 2xx JSON body signed into a token; empty for none. */
  readonly authPath: string;
  /** Wait before answering 401 to a bad signature, in milliseconds. */
  readonly delay?: number;
  /** A token must carry `exp` (and the `auth_path` answer too). */
  readonly requireExp: boolean;
  /** How far the issuer's clock may be from this one's for `exp` and `nbf`, in whole seconds. */
  readonly leeway: number;
  /** `iss` must be one of these (none: any). */
  readonly issuers: readonly string[];
  /** `aud`, or one of its entries, must be one of these (none: any). */
  readonly audiences: readonly string[];
  /** Claims a token must have (not null). */
  readonly requiredClaims: readonly string[];
  /** Claims sent to the upstream, each in its header (lower case). */
  readonly claimsToHeaders: readonly { readonly claim: string; readonly header: string }[];
}

const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\s*([\s\S]*?)\s*-----END \1-----$/;

/** The `jwt` plugin. */
export const jwt = definePlugin({
  category: "jwt",
  runtime: true,
  doc: "Lets a request through only with a valid, unexpired JSON Web Token, read from a header, a cookie or a query " +
    "parameter. Tokens are verified with a shared secret (HS256/HS384/HS512), a public key, or keys fetched from a JWKS URL. " +
    "Requests to `auth_path` are not checked; instead a successful JSON response from the upstream is signed and " +
    'returned as `{"token": "<jwt>"}`, which makes a simple login endpoint.',
  steps: { allowed: ["request"], default: "request" },
  fields: {
    header: field(headerNameType(), {
      doc: "Header that carries the token, e.g. `Authorization` (a `Bearer ` prefix is removed).",
    }),
    cookie: field(str(), { doc: "Cookie that carries the token." }),
    query: field(str(), { doc: "Query parameter that carries the token." }),
    secret: field(str(), {
      doc: "HMAC secret for HS256/HS384/HS512 tokens; needed unless `public_key` or `jwks_url` is set.",
    }),
    algorithm: field(oneOf(ALGORITHMS), {
      doc:
        "Only accept tokens signed with this algorithm. Unset accepts HS256, HS384 and HS512 with `secret`. RS*, PS* and ES* " +
        "need `public_key` or `jwks_url`; EdDSA needs `jwks_url`.",
      defaultText: "HS256, HS384 or HS512",
    }),
    public_key: field(str(), {
      doc: "PEM public key (`-----BEGIN PUBLIC KEY-----…`) for the RS*, PS* or ES* `algorithm`.",
    }),
    jwks_url: field(httpUrl(), { doc: "URL of a JSON Web Key Set; a token's `kid` selects the key." }),
    jwks_ttl: field(duration(SECONDS_LIMIT), { doc: "How long fetched JWKS keys are cached.", default: "1h" }),
    auth_path: field(str(), {
      doc:
        "Path whose 2xx JSON response is signed into a token instead of being checked (a login endpoint). Empty for none.",
      default: "",
    }),
    delay: field(duration(), {
      doc: "Wait this long before answering a token with a bad signature, to slow down guessing.",
    }),
    require_exp: field(bool(), {
      doc: "Refuse a token without `exp` (`Jwt authorization has no exp`), and a response at `auth_path` without one " +
        "(502). A token that has `exp` is always held to it.",
      default: true,
    }),
    leeway: field(duration(), {
      doc: "How far the issuer's clock may be from the proxy's, for `exp` and `nbf`; at most `1d`.",
      default: "60s",
    }),
    issuers: field(array(str()), { doc: "Accept only tokens whose `iss` is one of these." }),
    audiences: field(array(str()), { doc: "Accept only tokens whose `aud` (or one entry of it) is one of these." }),
    required_claims: field(array(str()), { doc: "Claims a token must have (`Jwt authorization has no <claim>`)." }),
    claims_to_headers: field(array(str()), {
      doc: "Claims sent to the upstream, each `claim:Header-Name` (split at the last colon). The client's own copies " +
        "of those headers are removed (also spelled with `_`); a list claim is joined with commas.",
    }),
  },
  compile(config, ctx): JwtPlan {
    const at = (key: string) => [...ctx.path, key];
    const cookie = config.cookie?.trim() || undefined;
    const query = config.query?.trim() || undefined;
    const secret = config.secret || undefined;
    const { header, algorithm, jwks_url: jwksUrl } = config;
    if (header === undefined && cookie === undefined && query === undefined) {
      ctx.diags.push(
        diag("missing-key", at("header"), "JWT needs a token source but none of header, cookie and query is set", {
          hint: 'Set header = "Authorization", cookie = "<name>" or query = "<name>"',
        }),
      );
    }
    const hasKey = config.public_key !== undefined && config.public_key.trim() !== "";
    let publicKey: PemKey | undefined;
    if (hasKey) {
      const parsed = parsePem(config.public_key, { path: at("public_key"), diags: ctx.diags });
      if (algorithm === undefined || !(KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
        ctx.diags.push(diag("unused-key", at("public_key"), "Public key needs an asymmetric algorithm", {
          hint: `Set algorithm to one of: ${KEY_ALGORITHMS.join(", ")}`,
        }));
      } else if (parsed !== undefined) {
        const mismatch = keyMismatch(parsed.key, algorithm);
        if (mismatch !== undefined) {
          ctx.diags.push(
            diag("invalid-value", at("public_key"), `Public key ${mismatch}, so it cannot verify ${algorithm}`, {
              hint: "Give the public key of the pair the tokens are signed with, or set algorithm to match it",
            }),
          );
        }
      }
      publicKey = parsed?.pem;
    }
    const asymmetric = algorithm !== undefined && (KEY_ALGORITHMS as readonly string[]).includes(algorithm);
    if (jwksUrl === undefined) {
      if (asymmetric && !hasKey) {
        ctx.diags.push(diag("missing-key", at("public_key"), `Algorithm "${algorithm}" needs a public key`, {
          hint: "Set public_key to the PEM public key, or set jwks_url",
        }));
      } else if (!asymmetric) {
        if (secret === undefined) {
          ctx.diags.push(diag("missing-key", at("secret"), "JWT secret is empty", {
            hint: "Set secret, or verify with public_key or jwks_url",
          }));
        }
        if (algorithm !== undefined && !(SECRET_ALGORITHMS as readonly string[]).includes(algorithm)) {
          ctx.diags.push(
            diag("unsupported-value", at("algorithm"), `Algorithm "${algorithm}" is not supported with a secret`, {
              hint: "Use HS256, HS384 or HS512, or set public_key/jwks_url",
            }),
          );
        }
      }
    }
    if (config.auth_path !== "" && secret === undefined && (jwksUrl !== undefined || asymmetric)) {
      ctx.diags.push(diag("missing-key", at("secret"), "Auth path needs a secret to sign tokens", {
        hint: "Set secret, or remove auth_path",
      }));
    }
    const names = (key: "issuers" | "audiences" | "required_claims") =>
      (config[key] ?? []).flatMap((item, i) => {
        const name = item.trim();
        if (name !== "") return [name];
        ctx.diags.push(diag("invalid-value", [...ctx.path, key, i], `An entry of ${key} is empty`, {
          hint: "Remove the empty entry",
        }));
        return [];
      });
    const claimsToHeaders = parseClaims(config.claims_to_headers ?? [], [...ctx.path, "claims_to_headers"], ctx.diags);
    if (config.leeway > 86_400_000) {
      ctx.diags.push(diag("invalid-value", at("leeway"), "Leeway is at most 1d", {
        hint: 'It is for two clocks that are not quite the same, e.g. leeway = "60s"',
      }));
    }
    return {
      ...(header !== undefined ? { header } : {}),
      ...(cookie !== undefined ? { cookie } : {}),
      ...(query !== undefined ? { query } : {}),
      ...(secret !== undefined ? { secret } : {}),
      ...(algorithm !== undefined ? { algorithm } : {}),
      ...(publicKey !== undefined ? { publicKey } : {}),
      ...(jwksUrl !== undefined ? { jwksUrl } : {}),
      jwksTtl: config.jwks_ttl,
      jwksCooldown: Math.min(config.jwks_ttl, 10_000),
      authPath: config.auth_path,
      ...(config.delay !== undefined ? { delay: config.delay } : {}),
      requireExp: config.require_exp,
      leeway: Math.floor(config.leeway / 1000),
      issuers: names("issuers"),
      audiences: names("audiences"),
      requiredClaims: names("required_claims"),
      claimsToHeaders,
    };
  },
});

/** Why `key` cannot verify `algorithm` (e.g. "is an EC key on P-384"), or undefined when it can. */
function keyMismatch(key: KeyObject, algorithm: JwtAlgorithm): string | undefined {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (algorithm.startsWith("RS")) return type === "rsa" ? undefined : `is of type ${type}, not RSA`;
  if (algorithm.startsWith("PS")) {
    return type === "rsa" || type === "rsa-pss" ? undefined : `is of type ${type}, not RSA`;
  }
  const want = algorithm === "ES256" ? "prime256v1" : algorithm === "ES384" ? "secp384r1" : undefined;
  if (want === undefined) return undefined;
  if (type !== "ec") return `is of type ${type}, not EC`;
  return curve === want ? undefined : `is an EC key on ${curve}, not ${want === "prime256v1" ? "P-256" : "P-384"}`;
}

function parsePem(
  text: string,
  at: { readonly path: KeyPath; readonly diags: Diagnostic[] },
): { pem: PemKey; key: KeyObject } | undefined {
  const { path, diags } = at;
  const m = PEM.exec(text.trim());
  if (!m) {
    diags.push(diag("invalid-value", path, "Public key is not a PEM block", {
      hint: "Paste the whole key, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----",
    }));
    return undefined;
  }
  const label = m[1]!;
  if (label.includes("PRIVATE")) {
    diags.push(
      diag("invalid-value", path, `Public key is a ${label}`, {
        hint: "Give the public key; never put a private key here",
      }),
    );
    return undefined;
  }
  if (!["PUBLIC KEY", "RSA PUBLIC KEY", "EC PUBLIC KEY"].includes(label)) {
    diags.push(diag("invalid-value", path, `Public key has unsupported PEM label ${JSON.stringify(label)}`, {
      hint: 'Use a "PUBLIC KEY" (SPKI) or "RSA PUBLIC KEY" block',
    }));
    return undefined;
  }
  const der = m[2]!.replace(/\s+/g, "");
  const r = decodeBase64(der);
  if (!r.ok || r.bytes.length === 0) {
    diags.push(diag("invalid-value", path, `Public key body is not valid base64${r.ok ? "" : `: ${r.reason}`}`));
    return undefined;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: r.bytes as never,
      format: "der",
      type: label === "RSA PUBLIC KEY" ? "pkcs1" : "spki",
    });
  } catch (e) {
    diags.push(diag("invalid-value", path, `Public key cannot be read: ${(e as Error).message}`, {
      hint: "Export it as PEM, e.g. openssl pkey -pubin -in key.pem (or openssl rsa -pubout / openssl ec -pubout)",
    }));
    return undefined;
  }
  const spki = key.export({ type: "spki", format: "der" }).toString("base64");
  return { pem: { label, der, spki }, key };
}
