/**
 * `ip_restriction`: allows or refuses requests by client IP.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field } from "../schema/types.ts";
import type { IpNet } from "../values/ip.ts";
import { forbiddenMessage, ipNetType, restrictionType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `ip_restriction` config. */
export interface IpRestrictionPlan {
  /** Networks to match the client IP against (use `ipInList` from `values/ip.ts`). */
  readonly ipList: readonly IpNet[];
  /** `allow`: only listed clients pass; `deny`: listed clients are refused. */
  readonly type: "allow" | "deny";
  /** 403 body. */
  readonly message: string;
}

/** The `ip_restriction` plugin. */
export const ipRestriction = definePlugin({
  category: "ip_restriction",
  doc:
    "Checks the client IP (the connection's, or X-Forwarded-For / X-Real-Ip from a `basic.trusted_proxies` peer) against a list of addresses " +
    "and networks. In `allow` mode only listed clients pass; in `deny` mode listed clients are refused with `403`. " +
    "A client IP that cannot be parsed gets `400`.",
  steps: { allowed: ["request"], default: "request" },
  runtime: true,
  fields: {
    ip_list: field(array(ipNetType()), {
      doc: 'Addresses and CIDR networks, IPv4 or IPv6, e.g. `["192.168.1.1", "10.0.0.0/24"]`.',
      default: [],
    }),
    type: restrictionType,
    message: forbiddenMessage,
  },
  compile(config, ctx): IpRestrictionPlan {
    if (config.ip_list.length === 0) {
      const all = config.type === "allow";
      ctx.diags.push(
        diag(
          "empty-list",
          [...ctx.path, "ip_list"],
          `IP list is empty, so ${all ? "every request is refused" : "the plugin does nothing"}`,
          {
            severity: "warning",
            hint: 'Add addresses, e.g. ip_list = ["10.0.0.0/8"]',
          },
        ),
      );
    }
    return { ipList: config.ip_list, type: config.type, message: config.message };
  },
});
