/**
 * `hmac_auth` (Pingap 0.16): requests signed with a shared secret, HTTP Signatures style
 * (`Authorization: Signature keyId,algorithm,headers,signature`).
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, bool, duration, field, str } from "../schema/types.ts";
import { headerName } from "../values/header.ts";
import { definePlugin } from "./define.ts";

/** The pseudo-header that stands for the method and target in a signature's `headers`. */
export const REQUEST_TARGET = "(request-target)";

/** Compiled `hmac_auth` config. */
export interface HmacAuthPlan {
  /** The secret of each key id. */
  readonly keys: ReadonlyMap<string, string>;
  /** Lower-case headers every signature must cover (besides `(request-target)`); `date` is covered by `x-date` too. */
  readonly signedHeaders: readonly string[];
  /** How far the request's date may be from now, in whole seconds. */
  readonly clockSkew: number;
  /** Hold the body to the signed digest. */
  readonly validateBody: boolean;
  /** Remove `Authorization` before the request is proxied. */
  readonly hideCredentials: boolean;
  /** The `WWW-Authenticate` value of a refusal: what a client must sign. */
  readonly challenge: string;
}

/** The `hmac_auth` plugin. */
export const hmacAuth = definePlugin({
  category: "hmac_auth",
  runtime: true,
  doc: "Lets a request through only when it is signed with one of `keys`: " +
    '`Authorization: Signature keyId="<id>",algorithm="hmac-sha256",headers="(request-target) host date",' +
    'signature="<base64>"`. The signature is the HMAC-SHA256 (or `hmac-sha512`) of one line per listed header, ' +
    "joined by a line feed: `(request-target): <method in lower case> <path?query as sent>`, or `<name>: <value>`. It " +
    "must cover `(request-target)` and `signed_headers`, and its `date` (or `x-date`, a date or unix seconds) must be " +
    "within `clock_skew` of now. Otherwise the answer is `401` with the reason and a `WWW-Authenticate: Signature` " +
    "challenge naming the headers to sign.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    keys: field(array(str({ nonEmpty: true }), { nonEmpty: true }), {
      doc: "The keys, each `key_id:secret` (split at the first colon; the secret may hold more).",
      required: true,
    }),
    signed_headers: field(array(str()), {
      doc: "Headers every signature must cover, besides `(request-target)`. `date` is covered by `x-date` too.",
      defaultText: '["host", "date"]',
    }),
    clock_skew: field(duration(), {
      doc: "How far the signed date may be from the proxy's clock; at least `1s`.",
      default: "5m",
    }),
    validate_body: field(bool(), {
      doc:
        "Hold the body to a signed `Content-Digest`/`Digest`. **Not supported by this version**: `true` is an error.",
      default: false,
    }),
    hide_credentials: field(bool(), {
      doc: "Remove the `Authorization` header before the request is proxied.",
      default: false,
    }),
  },
  compile(config, ctx): HmacAuthPlan {
    const keys = new Map<string, string>();
    config.keys.forEach((item, i) => {
      const at = [...ctx.path, "keys", i];
      const colon = item.indexOf(":");
      const id = colon < 0 ? "" : item.slice(0, colon).trim();
      const secret = colon < 0 ? "" : item.slice(colon + 1);
      // The entry is a secret: never quoted in a message.
      if (id === "" || secret === "" || id.includes('"')) {
        ctx.diags.push(diag("invalid-value", at, "Each entry of keys should be key_id:secret", {
          hint: 'Write "app1:<secret>"; the key id has no quote and neither part is empty',
        }));
        return;
      }
      if (keys.has(id)) {
        ctx.diags.push(diag("duplicate-key", at, `There are two keys for ${JSON.stringify(id)}`, {
          hint: "Give each key id one secret",
        }));
        return;
      }
      keys.set(id, secret);
    });
    const signedHeaders: string[] = [];
    const listed = config.signed_headers === undefined || config.signed_headers.length === 0
      ? ["host", "date"]
      : config.signed_headers;
    listed.forEach((raw, i) => {
      const name = raw.trim().toLowerCase();
      if (name === REQUEST_TARGET) return;
      if (!headerName(name).ok) {
        ctx.diags.push(
          diag("invalid-value", [...ctx.path, "signed_headers", i], `${JSON.stringify(raw)} is not a header name`, {
            hint: 'Name a header, e.g. "host", "date" or "x-tenant"',
          }),
        );
        return;
      }
      if (!signedHeaders.includes(name)) signedHeaders.push(name);
    });
    if (config.clock_skew < 1000) {
      ctx.diags.push(
        diag("invalid-value", [...ctx.path, "clock_skew"], "clock_skew should be at least 1s", {
          hint: 'A date is in whole seconds and no two clocks agree to the second; e.g. clock_skew = "5m"',
        }),
      );
    }
    return {
      keys,
      signedHeaders,
      clockSkew: Math.floor(config.clock_skew / 1000),
      validateBody: config.validate_body,
      hideCredentials: config.hide_credentials,
      challenge: `Signature realm="pingap",headers="${[REQUEST_TARGET, ...signedHeaders].join(" ")}"`,
    };
  },
});
