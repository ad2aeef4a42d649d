/**
 * `basic_auth`: HTTP Basic authentication against a fixed list of accounts.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, bool, duration, field, int, str } from "../schema/types.ts";
import { decodeAuthorization } from "./_base64.ts";
import { type PasswordHashKind, passwordHashKind, passwordHashProblem } from "./_password_hash.ts";
import { definePlugin } from "./define.ts";

/** Compiled `basic_auth` config. */
export interface BasicAuthPlan {
  /** Accepted `Authorization` header values, `Basic <base64>`, compared in constant time. */
  readonly expected: readonly string[];
  /** The accounts of `htpasswd`, whose passwords are kept as a bcrypt or argon2 hash. */
  readonly hashed: readonly HashedAccount[];
  /** Wait before answering 401 to wrong credentials, in milliseconds. */
  readonly delay?: number;
  /** Remove `Authorization` from the request before it is proxied. */
  readonly hideCredentials: boolean;
  /** Wrong credentials per client IP before it is refused (403); 0: no limit. */
  readonly ipFailLimit: number;
  /** How long failures are counted from an IP's first one (and so the longest block), in milliseconds. */
  readonly ipFailWindow: number;
  /** The `WWW-Authenticate` value of a 401. */
  readonly challenge: string;
}

/** An `htpasswd` account: the user, and the hash of its password. */
export interface HashedAccount {
  readonly user: string;
  readonly kind: PasswordHashKind;
  readonly hash: string;
}

/** The `basic_auth` plugin. */
export const basicAuth = definePlugin({
  category: "basic_auth",
  runtime: true,
  doc: "Requires HTTP Basic credentials: those of one of `authorizations`, or a user of `htpasswd` with the " +
    "password its hash was made of; otherwise the answer is `401` with " +
    '`WWW-Authenticate: Basic realm="Access to the staging site"`. At least one account is needed.',
  steps: { allowed: ["request"], default: "request" },
  fields: {
    authorizations: field(array(str()), {
      doc: 'Accepted accounts, each the base64 of `user:password` (e.g. `echo -n "admin:secret" | base64`).',
      default: [],
    }),
    htpasswd: field(array(str()), {
      doc: "Accounts whose password is kept as a hash, each `user:hash` as `htpasswd -nbB user password` prints it: " +
        "bcrypt (`$2y$`, `$2a$`, `$2b$`) or argon2 (`$argon2id$…`, PHC form). A hash is computed off the request " +
        "path, once per credentials; credentials that passed are remembered for 5 minutes.",
      default: [],
    }),
    delay: field(duration(), { doc: "Wait this long before answering wrong credentials, to slow down guessing." }),
    hide_credentials: field(bool(), {
      doc: "Remove the `Authorization` header before the request is proxied.",
      default: false,
    }),
    ip_fail_limit: field(int(), {
      doc: "Wrong credentials a client IP may send within `ip_fail_window` before it gets " +
        "`403 Forbidden, too many failures` (even with the right ones) until the window ends; `0` turns it off. A " +
        "missing header does not count. The IP is the client IP of `basic.trusted_proxies`.",
      default: 0,
    }),
    ip_fail_window: field(duration(), {
      doc: "How long an IP's failures are counted, from its first one.",
      default: "5m",
    }),
    realm: field(str(), {
      doc: 'The realm of the `WWW-Authenticate: Basic realm="…"` challenge.',
      defaultText: "Access to the staging site",
    }),
  },
  compile(config, ctx): BasicAuthPlan {
    const expected: string[] = [];
    config.authorizations.forEach((item, i) => {
      const at = [...ctx.path, "authorizations", i];
      const text = decodeAuthorization(item, at, ctx.diags);
      if (text === undefined) return;
      if (!text.includes(":")) {
        ctx.diags.push(
          diag("no-password", at, `Authorization ${JSON.stringify(item)} does not decode to "user:password"`, {
            severity: "warning",
            hint: "Browsers always send user:password, so this entry can only match hand-made headers",
          }),
        );
      }
      expected.push(`Basic ${item}`);
    });
    const hashed: HashedAccount[] = [];
    config.htpasswd.forEach((item, i) => {
      const at = [...ctx.path, "htpasswd", i];
      const text = item.trim();
      const colon = text.indexOf(":");
      const user = colon < 0 ? "" : text.slice(0, colon);
      const hash = colon < 0 ? "" : text.slice(colon + 1);
      // Said by the account's name, never the hash: diagnostics end up in logs.
      if (user === "" || hash === "") {
        ctx.diags.push(diag("invalid-value", at, "An htpasswd entry should be user:hash", {
          hint: "Use the line `htpasswd -nbB user password` prints, e.g. admin:$2y$10$…",
        }));
        return;
      }
      const kind = passwordHashKind(hash);
      if (kind === undefined) {
        ctx.diags.push(
          diag("invalid-value", at, `The hash of ${JSON.stringify(user)} is not bcrypt ($2y$) or argon2 ($argon2id$)`, {
            hint: "Make it with `htpasswd -nbB user password` (bcrypt) or an argon2 tool that prints the PHC form",
          }),
        );
        return;
      }
      const problem = passwordHashProblem(kind, hash);
      if (problem !== undefined) {
        ctx.diags.push(diag("invalid-value", at, `The hash of ${JSON.stringify(user)} ${problem}`, {
          hint: "Copy the whole hash again; it can not be read, so no password would match it",
        }));
        return;
      }
      if (hashed.some((a) => a.user === user)) {
        ctx.diags.push(diag("duplicate", at, `${JSON.stringify(user)} is in htpasswd twice`, {
          hint: "Keep one entry per user",
        }));
        return;
      }
      hashed.push({ user, kind, hash });
    });
    if (config.authorizations.length === 0 && config.htpasswd.length === 0) {
      ctx.diags.push(diag("missing-key", [...ctx.path, "authorizations"], "Basic auth has no account", {
        hint: 'Set authorizations (base64 of "user:password") or htpasswd ("user:hash")',
      }));
    }
    if (config.ip_fail_window <= 0) {
      ctx.diags.push(
        diag("invalid-value", [...ctx.path, "ip_fail_window"], "ip_fail_window must be greater than zero", {
          hint: 'e.g. ip_fail_window = "5m"',
        }),
      );
    }
    const realm = config.realm ?? "Access to the staging site";
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f]/.test(realm)) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "realm"], "Realm can not be put into a header", {
        hint: "Remove the control characters",
      }));
    }
    return {
      expected,
      hashed,
      ipFailLimit: config.ip_fail_limit,
      ipFailWindow: config.ip_fail_window,
      challenge: `Basic realm="${realm.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`,
      ...(config.delay !== undefined ? { delay: config.delay } : {}),
      hideCredentials: config.hide_credentials,
    };
  },
});
