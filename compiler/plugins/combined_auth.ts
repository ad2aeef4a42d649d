/**
 * `combined_auth`: app-id + timestamp + digest authentication, optionally
 * bound to client IPs.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, int, nested, str, table } from "../schema/types.ts";
import type { IpNet } from "../values/ip.ts";
import { ipNetType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** The secret that makes an app a super user: no timestamp, digest or IP check. */
export const SUPER_USER_SECRET = "*";

/** One app of `combined_auth`. */
export interface CombinedAuthApp {
  /** Shared secret; the digest is hex SHA-256 of `secret:ts`. */
  readonly secret: string;
  /** `secret` is `*`: every request with this app id passes. */
  readonly superUser: boolean;
  /** Allowed distance between the request's `ts` and the server clock, in seconds. */
  readonly deviation: number;
  /** Client IPs allowed to use this app; absent allows any. */
  readonly ipList?: readonly IpNet[];
}

/** Compiled `combined_auth` config. */
export interface CombinedAuthPlan {
  /** Apps by app id. */
  readonly apps: ReadonlyMap<string, CombinedAuthApp>;
}

const authorization = table({
  title: "combined_auth authorization",
  doc: "One app allowed to call through this plugin.",
  fields: {
    app_id: field(str({ nonEmpty: true }), {
      doc: "App id the client sends in the `app_id` query parameter.",
      required: true,
    }),
    secret: field(str({ nonEmpty: true }), {
      doc:
        "Shared secret; the digest is the hex SHA-256 of `secret:ts`. `*` makes the app a super user that skips every check.",
      required: true,
    }),
    deviation: field(int(), {
      doc:
        "How many seconds the client's `ts` may differ from the server clock. Must be above 0 unless `secret` is `*`.",
      unit: "seconds",
    }),
    ip_list: field(array(ipNetType()), {
      doc: "Client addresses or CIDR networks allowed to use this app; unset allows any.",
    }),
  },
});

/** The `combined_auth` plugin. */
export const combinedAuth = definePlugin({
  category: "combined_auth",
  runtime: true,
  doc: "Authenticates API clients by app: the request carries `app_id`, a unix timestamp `ts` and `digest`, the hex " +
    "SHA-256 of `secret:ts`. The timestamp must be within the app's `deviation` of the server clock and, when the app " +
    "has an `ip_list`, the client IP must be in it. Failures get `401` with the reason.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    authorizations: field(array(nested(authorization), { nonEmpty: true }), {
      doc:
        'Apps, as an array of tables: `[{ app_id = "app", secret = "s3cret", deviation = 60, ip_list = ["10.0.0.0/8"] }]`.',
      required: true,
    }),
  },
  compile(config, ctx): CombinedAuthPlan {
    const apps = new Map<string, CombinedAuthApp>();
    config.authorizations.forEach((app, i) => {
      const at = [...ctx.path, "authorizations", i];
      if (app.app_id === undefined || app.secret === undefined) return;
      if (apps.has(app.app_id)) {
        ctx.diags.push(diag("duplicate-app", [...at, "app_id"], `App ${JSON.stringify(app.app_id)} is defined twice`, {
          hint: "Remove one of the entries; app ids must be unique",
        }));
        return;
      }
      const superUser = app.secret === SUPER_USER_SECRET;
      const deviation = app.deviation ?? 0;
      if (!superUser && deviation <= 0) {
        ctx.diags.push(
          diag(
            "invalid-value",
            [...at, "deviation"],
            `Deviation of app ${JSON.stringify(app.app_id)} must be greater than 0 seconds`,
            {
              hint: "Set deviation to the allowed clock skew, e.g. deviation = 60",
            },
          ),
        );
      }
      apps.set(app.app_id, {
        secret: app.secret,
        superUser,
        deviation,
        ...(app.ip_list !== undefined && app.ip_list.length > 0 ? { ipList: app.ip_list } : {}),
      });
    });
    return { apps };
  },
});
