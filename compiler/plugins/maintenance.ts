/**
 * `maintenance` (Pingap 0.16): answers a location's requests with a maintenance notice, except for listed client
 * addresses and requests carrying a secret header.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, bool, duration, field, int, str } from "../schema/types.ts";
import { headerName } from "../values/header.ts";
import type { IpNet } from "../values/ip.ts";
import { ipNetType, isHeaderValue } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `maintenance` config. */
export interface MaintenancePlan {
  /** Off, the plugin lets everything through. */
  readonly enabled: boolean;
  /** The notice's status, 400–599. */
  readonly status: number;
  /** `Retry-After` in whole seconds, when set. */
  readonly retryAfter: number | undefined;
  /** The notice's body. */
  readonly body: string;
  /** `text/plain` or `text/html` (with charset). */
  readonly contentType: string;
  /** Client addresses let through (the verified client IP). */
  readonly allowIps: readonly IpNet[];
  /** `[lower-case name, value]` of the header that lets a request through. */
  readonly allowHeader: readonly [string, string] | undefined;
}

/** Pingap's default notice. */
export const MAINTENANCE_MESSAGE = "Service is under maintenance";

/** The `maintenance` plugin. */
export const maintenance = definePlugin({
  category: "maintenance",
  runtime: true,
  doc: "Answers every request of the location with a maintenance notice (`503 Service is under maintenance`, " +
    "`Cache-Control: private, no-store`, and `Retry-After` when set), except for clients in `allow_ip_list` (the " +
    "verified client IP) and requests that carry `allow_header` with its value. `enabled = false` keeps the table " +
    "between two maintenances and lets everything through.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    enabled: field(bool(), { doc: "Whether the notice is served.", default: true }),
    status: field(int(), { doc: "The notice's status, 400–599.", default: 503 }),
    retry_after: field(duration(), {
      doc: "Sent as `Retry-After` in whole seconds (at least 1); none when unset.",
    }),
    message: field(str(), {
      doc: "A plain-text notice (`text/plain`); the default is `Service is under maintenance`. Not with `html`.",
      default: "",
    }),
    html: field(str(), { doc: "An HTML notice (`text/html`). Not with `message`.", default: "" }),
    allow_ip_list: field(array(ipNetType()), {
      doc: 'Client addresses and networks let through, e.g. `["10.0.0.0/8"]`; the verified client IP is used.',
      default: [],
    }),
    allow_header: field(str(), {
      doc: 'A `"Name: value"` header that lets a request through (compared in constant time).',
      default: "",
    }),
  },
  compile(config, ctx): MaintenancePlan {
    if (config.status < 400 || config.status > 599) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "status"], "status must be between 400 and 599", {
        hint: "A notice with a success or redirect status would be taken for the page; e.g. status = 503",
      }));
    }
    if (config.message !== "" && config.html !== "") {
      ctx.diags.push(
        diag("conflicting-keys", [...ctx.path, "html"], "message and html are two forms of one body, set one of them", {
          hint: "Remove message or html",
        }),
      );
    }
    let allowHeader: readonly [string, string] | undefined;
    if (config.allow_header !== "") {
      const raw = config.allow_header;
      const colon = raw.indexOf(":");
      const name = colon < 0 ? undefined : headerName(raw.slice(0, colon).trim());
      const value = colon < 0 ? "" : raw.slice(colon + 1).trim();
      if (name === undefined || !name.ok || value === "" || !isHeaderValue(value)) {
        ctx.diags.push(
          diag(
            "invalid-value",
            [...ctx.path, "allow_header"],
            `allow_header: ${JSON.stringify(raw)} should be name:value`,
            {
              hint: 'The value is what lets a request through: e.g. allow_header = "X-Maintenance-Pass: <secret>"',
            },
          ),
        );
      } else {
        allowHeader = [name.value, value];
      }
    }
    const html = config.html !== "";
    return {
      enabled: config.enabled,
      status: config.status,
      retryAfter: config.retry_after === undefined ? undefined : Math.max(1, Math.floor(config.retry_after / 1000)),
      body: html ? config.html : config.message !== "" ? config.message : MAINTENANCE_MESSAGE,
      contentType: html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8",
      allowIps: config.allow_ip_list,
      allowHeader,
    };
  },
});
