/**
 * `csrf`: double-submit-cookie CSRF protection with signed tokens.
 *
 * @module
 */
import { SECONDS_LIMIT } from "../units.ts";
import { diag } from "../diagnostic.ts";
import { duration, field, str } from "../schema/types.ts";
import { tokenName } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `csrf` config. */
export interface CsrfPlan {
  /** Path that issues a new token. */
  readonly tokenPath: string;
  /** Secret mixed into each token's signature. */
  readonly key: string;
  /** Header and cookie name that carry the token (as written). */
  readonly name: string;
  /** Token lifetime (and cookie Max-Age), in milliseconds; absent never expires. */
  readonly ttl?: number;
}

/** The `csrf` plugin. */
export const csrf = definePlugin({
  category: "csrf",
  doc: "Protects against cross-site request forgery. A request to `token_path` gets a fresh signed token in a cookie " +
    "(`204`, not cacheable). Other requests that are not GET, HEAD or OPTIONS must send the same token in the header " +
    "`name` and in the cookie `name`, and the token must be validly signed and unexpired; otherwise they get `401`.",
  runtime: true,
  steps: { allowed: ["request"], default: "request" },
  fields: {
    token_path: field(str({ nonEmpty: true }), {
      doc: "Path that issues a new token, such as `/csrf-token`.",
      required: true,
    }),
    key: field(str({ nonEmpty: true }), {
      doc: "Secret mixed into each token's SHA-256 signature. Keep it private; changing it invalidates every issued " +
        "token.",
      required: true,
    }),
    name: field(tokenName(), {
      doc: "Name of the header and of the cookie that carry the token.",
      default: "x-csrf-token",
    }),
    ttl: field(duration(SECONDS_LIMIT), {
      doc: "How long a token stays valid (also the cookie's Max-Age), in whole seconds. Unset (or under `1s`): " +
        "tokens never expire.",
    }),
  },
  compile(config, ctx): CsrfPlan {
    if (!config.token_path.startsWith("/")) {
      ctx.diags.push(
        diag(
          "invalid-value",
          [...ctx.path, "token_path"],
          `Token path ${JSON.stringify(config.token_path)} does not start with "/"`,
          {
            hint: `Write "/${config.token_path}"`,
          },
        ),
      );
    }
    if (config.key.length < 16) {
      ctx.diags.push(diag("weak-secret", [...ctx.path, "key"], "CSRF key is shorter than 16 characters", {
        severity: "warning",
        hint: "Use a long random secret, e.g. the output of: openssl rand -hex 32",
      }));
    }
    return {
      tokenPath: config.token_path,
      key: config.key,
      name: config.name,
      ...(config.ttl !== undefined ? { ttl: config.ttl } : {}),
    };
  },
});
