/**
 * `admin`: mounts the web admin UI and its config API under a path prefix.
 *
 * @module
 */
import { SECONDS_LIMIT } from "../units.ts";
import { diag } from "../diagnostic.ts";
import { array, duration, field, int, str } from "../schema/types.ts";
import { decodeBase64 } from "./_base64.ts";
import { definePlugin } from "./define.ts";

/** One admin account. */
export interface AdminAccount {
  /** User name. */
  readonly user: string;
  /** Password, compared through the login token digest. */
  readonly password: string;
}

/** Compiled `admin` config. */
export interface AdminPlan {
  /** Mount prefix, without a trailing `/` (empty mounts at the root). */
  readonly path: string;
  /** Accounts decoded from `authorizations`; empty means no authentication. */
  readonly accounts: readonly AdminAccount[];
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
    "checked against `authorizations`; an IP that fails too often is locked out for five minutes.",
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
    config.authorizations.forEach((item, i) => {
      const at = [...ctx.path, "authorizations", i];
      const r = decodeBase64(item);
      if (!r.ok) {
        ctx.diags.push(
          diag("invalid-base64", at, `Authorization ${JSON.stringify(item)} is not valid base64: ${r.reason}`, {
            hint: 'Encode "user:password", e.g. echo -n "admin:secret" | base64',
          }),
        );
        return;
      }
      const text = new TextDecoder().decode(r.bytes);
      const colon = text.indexOf(":");
      if (colon < 0) {
        ctx.diags.push(
          diag("invalid-value", at, `Authorization ${JSON.stringify(item)} does not decode to "user:password"`, {
            hint: 'Encode "user:password", e.g. echo -n "admin:secret" | base64',
          }),
        );
        return;
      }
      accounts.push({ user: text.slice(0, colon), password: text.slice(colon + 1) });
    });
    if (config.authorizations.length === 0) {
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
    return { path, accounts, maxAge: config.max_age, ipFailLimit: config.ip_fail_limit };
  },
});
