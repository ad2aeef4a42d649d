/**
 * `basic_auth`: HTTP Basic authentication against a fixed list of accounts.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, bool, duration, field, int, str } from "../schema/types.ts";
import { decodeBase64 } from "./_base64.ts";
import { definePlugin } from "./define.ts";

/** Compiled `basic_auth` config. */
export interface BasicAuthPlan {
  /** Accepted `Authorization` header values, `Basic <base64>`, compared in constant time. */
  readonly expected: readonly string[];
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

/** The `basic_auth` plugin. */
export const basicAuth = definePlugin({
  category: "basic_auth",
  runtime: true,
  doc: "Requires HTTP Basic credentials. The whole `Authorization` header must equal `Basic ` followed by one of " +
    '`authorizations`; otherwise the answer is `401` with `WWW-Authenticate: Basic realm="Access to the staging site"`.',
  steps: { allowed: ["request"], default: "request" },
  fields: {
    authorizations: field(array(str(), { nonEmpty: true }), {
      doc: 'Accepted accounts, each the base64 of `user:password` (e.g. `echo -n "admin:secret" | base64`).',
      required: true,
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
      const r = decodeBase64(item);
      if (!r.ok) {
        ctx.diags.push(
          diag("invalid-base64", at, `Authorization ${JSON.stringify(item)} is not valid base64: ${r.reason}`, {
            hint: 'Encode "user:password", e.g. echo -n "admin:secret" | base64',
          }),
        );
        return;
      }
      if (!new TextDecoder().decode(r.bytes).includes(":")) {
        ctx.diags.push(
          diag("no-password", at, `Authorization ${JSON.stringify(item)} does not decode to "user:password"`, {
            severity: "warning",
            hint: "Browsers always send user:password, so this entry can only match hand-made headers",
          }),
        );
      }
      expected.push(`Basic ${item}`);
    });
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
      ipFailLimit: config.ip_fail_limit,
      ipFailWindow: config.ip_fail_window,
      challenge: `Basic realm="${realm.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`,
      ...(config.delay !== undefined ? { delay: config.delay } : {}),
      hideCredentials: config.hide_credentials,
    };
  },
});
