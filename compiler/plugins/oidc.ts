/**
 * `oidc` (Pingap 0.16): login at an OpenID Connect provider (authorization code with PKCE), the session in an
 * encrypted cookie.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { diag } from "../diagnostic.ts";
import { array, duration, field, str } from "../schema/types.ts";
import { type ClaimHeader, claimsToHeaders } from "./_claims_to_headers.ts";
import { definePlugin } from "./define.ts";

/** Compiled `oidc` config. */
export interface OidcPlan {
  /** The provider's URL, without a trailing `/`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Empty: a public client (the id goes in the token request's form). */
  readonly clientSecret: string;
  /** The AES-256 key of the cookies: SHA-256(cookie_secret ‖ 0 ‖ issuer ‖ 0 ‖ client_id). */
  readonly key: Uint8Array;
  readonly redirectPath: string;
  /** The callback URL as the provider sees it; undefined: made of the request's scheme and Host. */
  readonly redirectUrl?: string;
  readonly logoutPath?: string;
  /** `openid` and the configured scopes, space-separated. */
  readonly scopes: string;
  readonly cookieName: string;
  /** Session lifetime in whole seconds. */
  readonly sessionTtl: number;
  readonly claimsToHeaders: readonly ClaimHeader[];
}

/** A path of this site and nothing else (`//host` and `/\host` are other sites to a browser). */
export function isLocalPath(value: string): boolean {
  if (!value.startsWith("/") || value[1] === "/" || value[1] === "\\") return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

function isHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The `oidc` plugin. */
export const oidc = definePlugin({
  category: "oidc",
  runtime: true,
  doc: "Lets in who has logged in at an OpenID Connect provider. A browser without a session (one that accepts " +
    "`text/html`) is sent to the provider's authorization endpoint (code flow with PKCE, `state` and `nonce`); any other " +
    "request gets `401`. The provider sends it back to `redirect_path`, where the code is exchanged for an ID token, " +
    "checked with the provider's JWKS (issuer, audience, expiry, nonce), and a session cookie sealed with " +
    "`cookie_secret` (AES-256-GCM) is set. With a session, `claims_to_headers` puts the user's claims on the upstream " +
    "request. A provider that fails answers `502 Login failed`.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    issuer: field(str(), {
      doc: "The provider's URL (http or https); `<issuer>/.well-known/openid-configuration` describes it.",
      required: true,
    }),
    client_id: field(str(), { doc: "The client id registered at the provider.", required: true }),
    client_secret: field(str(), { doc: "The client secret; empty for a public client.", default: "" }),
    cookie_secret: field(str(), {
      doc: "Encrypts the session and login cookies; at least 16 characters. Every instance with it reads them.",
      required: true,
    }),
    redirect_path: field(str(), {
      doc: "The local path the provider sends the browser back to.",
      default: "/oauth2/callback",
    }),
    redirect_url: field(str(), {
      doc: "The callback URL as the provider sees it (behind another proxy); its path must be `redirect_path`.",
      defaultText: "scheme and Host of the request + `redirect_path`",
    }),
    logout_path: field(str(), {
      doc: "A local path that ends the session (and sends the browser to the provider's `end_session_endpoint`).",
    }),
    scopes: field(array(str()), { doc: "Scopes asked for besides `openid`.", defaultText: "[]" }),
    cookie_name: field(str(), {
      doc: "The session cookie's name; logins use `<name>_<state tag>`.",
      default: "pingap_oidc",
    }),
    session_ttl: field(duration(), { doc: "How long a session lasts; at least `1m`.", default: "12h" }),
    claims_to_headers: field(array(str()), {
      doc: "Claims sent to the upstream, each `claim:Header-Name` (split at the last colon). The client's own copies " +
        "are removed; a list claim is joined with commas.",
    }),
  },
  compile(config, ctx): OidcPlan {
    const at = (key: string) => [...ctx.path, key];
    const bad = (key: string, message: string, hint: string) =>
      ctx.diags.push(diag("invalid-value", at(key), message, { hint }));
    const issuer = config.issuer.trim().replace(/\/+$/, "");
    if (isHttpUrl(issuer) === undefined) {
      bad(
        "issuer",
        "issuer is required: the url of the provider, http or https",
        'e.g. issuer = "https://idp.example.com"',
      );
    }
    const clientId = config.client_id.trim();
    if (clientId === "") bad("client_id", "client_id is required", "The client id registered at the provider");
    if (config.cookie_secret.length < 16) {
      bad(
        "cookie_secret",
        "cookie_secret is required, 16 characters at least: the sessions are encrypted with it",
        "Use a long random string, e.g. from `openssl rand -base64 32`",
      );
    }
    const path = (key: "redirect_path" | "logout_path", value: string | undefined): string | undefined => {
      if (value === undefined || value === "") return undefined;
      if (!isLocalPath(value) || value.length < 2 || /[?#]/.test(value)) {
        bad(key, `${key}: ${JSON.stringify(value)} is not a path, as /oauth2/callback is`, "Write a local path");
      }
      return value;
    };
    const redirectPath = path("redirect_path", config.redirect_path) ?? "/oauth2/callback";
    const logoutPath = path("logout_path", config.logout_path);
    if (logoutPath === redirectPath) {
      bad("logout_path", "logout_path can not be the redirect_path", "Give logout its own path, e.g. /oauth2/logout");
    }
    const redirectUrl = config.redirect_url?.trim() || undefined;
    if (redirectUrl !== undefined && isHttpUrl(redirectUrl)?.pathname !== redirectPath) {
      bad(
        "redirect_url",
        `redirect_url should be an http or https url whose path is the redirect_path (${redirectPath})`,
        `e.g. redirect_url = "https://app.example.com${redirectPath}"`,
      );
    }
    const scopes = ["openid"];
    (config.scopes ?? []).forEach((raw, i) => {
      const scope = raw.trim();
      if (scope === "" || /\s/.test(scope)) {
        ctx.diags.push(
          diag("invalid-value", [...ctx.path, "scopes", i], `scopes: ${JSON.stringify(scope)} is not a scope`, {
            hint: 'One word each, e.g. scopes = ["email", "profile"]',
          }),
        );
      } else if (!scopes.includes(scope)) scopes.push(scope);
    });
    const cookieName = config.cookie_name.trim() || "pingap_oidc";
    if (!/^[A-Za-z0-9._-]+$/.test(cookieName)) {
      bad(
        "cookie_name",
        `cookie_name: ${JSON.stringify(cookieName)} should be letters, digits, '-', '_' or '.'`,
        "e.g. pingap_oidc",
      );
    } else if (cookieName.startsWith("__Host-")) {
      bad(
        "cookie_name",
        "cookie_name can not begin with __Host-: the cookie of a login is for the redirect_path",
        "Drop the __Host- prefix",
      );
    }
    if (config.session_ttl < 60_000) {
      bad("session_ttl", "session_ttl should be at least 1m", 'e.g. session_ttl = "12h"');
    }
    const claims = claimsToHeaders(config.claims_to_headers ?? [], at("claims_to_headers"), ctx.diags);
    const key = new Uint8Array(
      createHash("sha256").update(config.cookie_secret).update("\0").update(issuer).update("\0").update(clientId)
        .digest(),
    );
    return {
      issuer,
      clientId,
      clientSecret: config.client_secret,
      key,
      redirectPath,
      ...(redirectUrl !== undefined ? { redirectUrl } : {}),
      ...(logoutPath !== undefined ? { logoutPath } : {}),
      scopes: scopes.join(" "),
      cookieName,
      sessionTtl: Math.floor(config.session_ttl / 1000),
      claimsToHeaders: claims,
    };
  },
});
