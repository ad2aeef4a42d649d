/**
 * What `oidc` asks of the OpenID provider: its discovery document (kept an hour; asked again at most every 10 s
 * after a failure, one request at a time; what there is stays when it does not answer) and the code-for-token
 * exchange, whose ID token is verified with the provider's JWKS (asymmetric algorithms only, 60 s leeway, `iss`,
 * `aud`, `exp`, `sub`, then the login's `nonce`). Redirects are not followed.
 *
 * @module
 */
import type { OidcPlan } from "../../compiler/mod.ts";
import { readCapped } from "../http/read_capped.ts";
import { appLog } from "../observe/log/app_log.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { JwksSource } from "./jwks_source.ts";

const DISCOVERY_TTL = 3_600_000;
const DISCOVERY_COOLDOWN = 10_000;
const HTTP_TIMEOUT = 10_000;
const LEEWAY = 60;
/** The most of a provider's JSON answer that is read. */
const MAX_ANSWER = 1 << 20;

/** A JSON answer of the provider, read up to {@linkcode MAX_ANSWER}. */
async function answerJson(res: Response): Promise<Record<string, unknown>> {
  const bytes = await readCapped(res.body, MAX_ANSWER);
  if (bytes === undefined) throw new Error("the answer is over 1 MiB");
  const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("the answer is not a JSON object");
  }
  return value as Record<string, unknown>;
}
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** The provider as its discovery document describes it. */
export interface Provider {
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly endSessionEndpoint?: string;
  /** Client authentication with HTTP Basic (else form fields). */
  readonly basicAuth: boolean;
  readonly jwks: JwksSource;
  readonly fetchedAt: number;
}

/** A login under way, as its cookie keeps it. */
export interface Login {
  readonly state: string;
  readonly verifier: string;
  readonly nonce: string;
  /** Where the browser was going: a local path. */
  readonly url: string;
  /** Unix seconds. */
  readonly exp: number;
}

function httpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** The provider of one plugin instance. */
export class ProviderSource {
  #provider: Provider | undefined;
  #lastAttempt: number | undefined;
  #pending: Promise<void> | undefined;

  constructor(readonly plan: OidcPlan, readonly plugin: string) {}

  /** The provider: fresh, or what was there when it cannot be asked now; undefined when it never answered. */
  async get(): Promise<Provider | undefined> {
    const fresh = this.#provider !== undefined && Date.now() - this.#provider.fetchedAt < DISCOVERY_TTL;
    if (fresh) return this.#provider;
    if (
      this.#pending === undefined &&
      (this.#lastAttempt === undefined || Date.now() - this.#lastAttempt >= DISCOVERY_COOLDOWN)
    ) {
      this.#pending = this.#discover().then((p) => {
        this.#provider = p;
      }, (e) => {
        appLog("error", "oidc discovery failed", { plugin: this.plugin, issuer: this.plan.issuer, error: String(e) });
      }).finally(() => {
        this.#lastAttempt = Date.now();
        this.#pending = undefined;
      });
    }
    await this.#pending;
    return this.#provider;
  }

  async #discover(): Promise<Provider> {
    const res = await fetch(`${this.plan.issuer}/.well-known/openid-configuration`, {
      redirect: "manual",
      signal: AbortSignal.timeout(HTTP_TIMEOUT),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`discovery answers ${res.status}`);
    }
    const d = await answerJson(res);
    const issuer = typeof d.issuer === "string" ? d.issuer.replace(/\/+$/, "") : "";
    if (issuer !== this.plan.issuer) {
      throw new Error(`the provider calls itself ${JSON.stringify(d.issuer)}, not ${JSON.stringify(this.plan.issuer)}`);
    }
    for (const name of ["authorization_endpoint", "token_endpoint", "jwks_uri"]) {
      if (!httpUrl(d[name])) throw new Error(`${name} of the provider is not a url`);
    }
    const methods = d.token_endpoint_auth_methods_supported;
    return {
      authorizationEndpoint: d.authorization_endpoint as string,
      tokenEndpoint: d.token_endpoint as string,
      ...(httpUrl(d.end_session_endpoint) ? { endSessionEndpoint: d.end_session_endpoint } : {}),
      basicAuth: !Array.isArray(methods) || methods.includes("client_secret_basic"),
      jwks: new JwksSource(d.jwks_uri as string, {
        ttl: DISCOVERY_TTL,
        cooldown: DISCOVERY_COOLDOWN,
        timeout: HTTP_TIMEOUT,
        plugin: this.plugin,
      }),
      fetchedAt: Date.now(),
    };
  }
}

/**
 * The claims of the ID token the provider gives for `code`, verified; a failure is thrown as an `Error` whose message
 * says which step failed (never the code or a token).
 */
export async function exchangeCode(
  plan: OidcPlan,
  provider: Provider,
  code: string,
  login: Login,
  redirectUri: string,
): Promise<Record<string, unknown>> {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: login.verifier,
  });
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };
  if (plan.clientSecret === "") form.set("client_id", plan.clientId);
  else if (provider.basicAuth) {
    // Each form-encoded before they are joined (RFC 6749 §2.3.1).
    const pair = `${encodeURIComponent(plan.clientId)}:${encodeURIComponent(plan.clientSecret)}`;
    headers.authorization = `Basic ${btoa(pair)}`;
  } else {
    form.set("client_id", plan.clientId);
    form.set("client_secret", plan.clientSecret);
  }
  const res = await fetch(provider.tokenEndpoint, {
    method: "POST",
    headers,
    body: form.toString(),
    redirect: "manual",
    signal: AbortSignal.timeout(HTTP_TIMEOUT),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`the token endpoint answers ${res.status}`);
  }
  const answer = await answerJson(res);
  if (typeof answer.id_token !== "string") throw new Error("no id_token in the answer");
  const claims = await provider.jwks.verify(answer.id_token, {
    algorithms: ASYMMETRIC,
    clockTolerance: LEEWAY,
    audience: plan.clientId,
    issuer: [plan.issuer, `${plan.issuer}/`],
    requiredClaims: ["exp", "iss", "aud", "sub"],
  });
  if (claims === undefined) throw new Error("the id_token does not verify");
  const nonce = typeof claims.nonce === "string" ? claims.nonce : "";
  if (!constantTimeEqual(nonce, login.nonce)) throw new Error("the id_token is not for this login");
  return claims as Record<string, unknown>;
}
