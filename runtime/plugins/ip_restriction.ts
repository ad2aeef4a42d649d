/**
 * `ip_restriction`: allows or refuses a request by its client IP, the one
 * `basic.trusted_proxies` verifies (runtime/proxy/client_ip.ts), never a
 * forwarded header taken as it came.
 *
 * @module
 */
import { ipInList, type IpRestrictionPlan, parseIp, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { PluginAnswer } from "./contract.ts";
import { plainAnswer } from "./forbidden.ts";
import { runtimePlugin } from "./contract.ts";

/** What becomes of a request: it passes, is refused (403), or its client IP is no address (400). */
export type IpVerdict = "pass" | "forbidden" | "bad_ip";

/**
 * The verdict of `plan` on the client IP `ip`: in `allow` mode only listed clients pass, in `deny` mode listed clients
 * are refused.
 *
 * @example Usage
 * ```ts
 * import { ipVerdict } from "./ip_restriction.ts";
 * import { ipNet } from "../../compiler/mod.ts";
 * const net = ipNet("1.1.1.0/24");
 * if (!net.ok) throw new Error(net.message);
 * const plan = { ipList: [net.value], type: "deny", message: "" } as const;
 * if (ipVerdict(plan, "1.1.1.2") !== "forbidden" || ipVerdict(plan, "2.1.1.2") !== "pass") throw new Error();
 * ```
 */
export function ipVerdict(plan: IpRestrictionPlan, ip: string): IpVerdict {
  if (parseIp(ip) === undefined) return "bad_ip";
  const found = ipInList(plan.ipList, ip);
  return found === (plan.type === "allow") ? "pass" : "forbidden";
}

/** Creates the ip_restriction plugin. */
export const ipRestriction = runtimePlugin(PLUGIN_DEFINITIONS.ipRestriction, (c) => {
  const forbidden = plainAnswer(403, c.message);
  // Pingap answers with the address parser's error.
  const badIp = plainAnswer(400, "invalid IP address syntax");
  // The last client's answer: the requests of a keep-alive connection come from one address, parsed once.
  let lastIp: string | undefined;
  let lastAnswer: PluginAnswer | undefined;
  return {
    request(ctx) {
      const ip = ctx.clientIp();
      if (ip !== lastIp) {
        const v = ipVerdict(c, ip);
        lastAnswer = v === "pass" ? undefined : v === "forbidden" ? forbidden : badIp;
        lastIp = ip;
      }
      return lastAnswer;
    },
  };
});
