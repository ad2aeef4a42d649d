/**
 * `admin`: mounts the web admin UI and its config API under a path prefix.
 *
 * @module
 */
import { SECONDS_LIMIT } from "../units.ts";
import { diag } from "../diagnostic.ts";
import { array, duration, field, int, str } from "../schema/types.ts";
import { decodeAuthorization } from "./_base64.ts";
import { definePlugin } from "./define.ts";

/** One admin account. */
export interface AdminAccount {
  /** User name. */
  readonly user: string;
  /** Password, compared through the login token digest. */
  readonly password: string;
  /** From `readonly_authorizations`: may read, never write. */
  readonly readonly?: boolean;
}

/** One API token (`tokens`, `readonly_tokens`), sent as `Authorization: Bearer <token>`. */
export interface AdminToken {
  /** The token's name, what the audit log says. */
  readonly name: string;
  /** Lower-case hex SHA-256 of the token. */
  readonly sha256: string;
  /** From `readonly_tokens`: may read, never write. */
  readonly readonly: boolean;
}

/** Compiled `admin` config. */
export interface AdminPlan {
  /** Mount prefix, without a trailing `/` (empty mounts at the root). */
  readonly path: string;
  /** Accounts decoded from `authorizations` and `readonly_authorizations`; with no token either, no authentication. */
  readonly accounts: readonly AdminAccount[];
  /** API tokens of `tokens` and `readonly_tokens`. */
  readonly tokens: readonly AdminToken[];
  /** Allowed clock skew of a login token, in milliseconds. */
  readonly maxAge: number;
  /** Failed logins per IP within 5 minutes before the IP is refused with 403. */
  readonly ipFailLimit: number;
}

/** The `admin` plugin. */
export const admin = definePlugin({
  category: "admin",
  runtime: true,
  doc:
    "Serves Pingap's admin web UI and its JSON API (read and edit the config, view stats) under `path`. Logins are " +
    "checked against `authorizations` (and `readonly_authorizations`, which may only read); scripts use `tokens` " +
    "(or `readonly_tokens`). An IP that fails too often is locked out for five minutes.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    path: field(str(), {
      doc: "Path prefix the admin UI is mounted at, e.g. `/pingap`. A trailing `/` is ignored.",
      default: "",
    }),
    authorizations: field(array(str()), {
      doc: 'Accounts allowed to log in, each the base64 of `user:password` (e.g. `echo -n "admin:secret" | base64`). ' +
        "Empty turns authentication off.",
      default: [],
    }),
    readonly_authorizations: field(array(str()), {
      doc: "Accounts that may read the config and stats but never change them (a write is " +
        "`403 Forbidden, this account is read-only`), each the base64 of `user:password`.",
      default: [],
    }),
    tokens: field(array(str()), {
      doc: "API tokens for scripts, each `name:<hex SHA-256 of the token>` (e.g. " +
        '`printf %s "$TOKEN" | sha256sum`); a client sends `Authorization: Bearer <token>`. Writes are logged ' +
        "with the token's name.",
      default: [],
    }),
    readonly_tokens: field(array(str()), {
      doc: "API tokens that may only read, in the form of `tokens`.",
      default: [],
    }),
    max_age: field(duration(SECONDS_LIMIT), {
      doc: "How far a login token's timestamp may be from the server clock before the token is refused.",
      default: "2d",
    }),
    ip_fail_limit: field(int({ min: 1 }), {
      doc: "Failed logins one IP may make within five minutes before it is refused with `403`.",
      default: 10,
      unit: "failures",
    }),
  },
  compile(config, ctx): AdminPlan {
    let path = config.path.trim();
    if (path.length > 1 && path.endsWith("/")) path = path.replace(/\/+$/, "");
    if (path !== "" && !path.startsWith("/")) {
      ctx.diags.push(
        diag(
          "invalid-value",
          [...ctx.path, "path"],
          `Admin path ${JSON.stringify(config.path)} does not start with "/"`,
          {
            hint: `Write "/${path}"`,
          },
        ),
      );
    }
    const accounts: AdminAccount[] = [];
    const readAccounts = (key: "authorizations" | "readonly_authorizations", readonly: boolean) =>
      config[key].forEach((item, i) => {
        const at = [...ctx.path, key, i];
        const text = decodeAuthorization(item, at, ctx.diags);
        if (text === undefined) return;
        const colon = text.indexOf(":");
        if (colon < 0) {
          ctx.diags.push(
            diag("invalid-value", at, `Authorization ${JSON.stringify(item)} does not decode to "user:password"`, {
              hint: 'Encode "user:password", e.g. echo -n "admin:secret" | base64',
            }),
          );
          return;
        }
        const user = text.slice(0, colon);
        const other = accounts.find((a) => a.user === user && a.readonly !== readonly);
        if (other) {
          ctx.diags.push(
            diag("duplicate", at, `User ${JSON.stringify(user)} is in authorizations and in readonly_authorizations`, {
              hint: "Keep the user in one of them: authorizations may write, readonly_authorizations only read",
            }),
          );
          return;
        }
        accounts.push({ user, password: text.slice(colon + 1), ...(readonly ? { readonly: true } : {}) });
      });
    readAccounts("authorizations", false);
    readAccounts("readonly_authorizations", true);
    const tokens: AdminToken[] = [];
    const readTokens = (key: "tokens" | "readonly_tokens", readonly: boolean) =>
      config[key].forEach((item, i) => {
        const at = [...ctx.path, key, i];
        const colon = item.indexOf(":");
        const name = colon < 0 ? "" : item.slice(0, colon).trim();
        const sha256 = colon < 0 ? "" : item.slice(colon + 1).trim().toLowerCase();
        // Never quoted: the item may be a token pasted where its digest should be.
        if (name === "" || !/^[0-9a-f]{64}$/.test(sha256)) {
          ctx.diags.push(
            diag("invalid-value", at, "A token should be name:<hex SHA-256 of the token> (64 hex digits)", {
              hint: 'Put the digest, not the token: printf %s "$TOKEN" | sha256sum',
            }),
          );
          return;
        }
        if (tokens.some((t) => t.name === name)) {
          ctx.diags.push(diag("duplicate", at, `Token ${JSON.stringify(name)} is there more than once`, {
            hint: "Give each token a name of its own (in tokens and readonly_tokens together)",
          }));
          return;
        }
        tokens.push({ name, sha256, readonly });
      });
    readTokens("tokens", false);
    readTokens("readonly_tokens", true);
    const writers = accounts.some((a) => !a.readonly) || tokens.some((t) => !t.readonly);
    if (!writers && (accounts.length > 0 || tokens.length > 0)) {
      ctx.diags.push(
        diag(
          "missing-key",
          [...ctx.path, "authorizations"],
          "There are read-only accounts or tokens and none that may write, so the config can never be changed here",
          { hint: 'Add an account to authorizations (base64 of "user:password") or a token to tokens' },
        ),
      );
    }
    if (config.authorizations.length === 0 && config.readonly_authorizations.length === 0 && tokens.length === 0) {
      ctx.diags.push(
        diag(
          "no-authentication",
          [...ctx.path, "authorizations"],
          "Admin plugin has no authorizations, so anyone can change the config",
          {
            severity: "warning",
            hint: 'Add an account: authorizations = ["<base64 of user:password>"]',
          },
        ),
      );
    }
    return { path, accounts, tokens, maxAge: config.max_age, ipFailLimit: config.ip_fail_limit };
  },
});
