/**
 * `combined_auth`: app id, time and digest in the query, per-app IP list (the check is `combined_auth_check.ts`). A
 * refusal is `401` with `Cache-Control: private, no-store` and Pingap's text,
 * `Plugin combined_auth invalid, message: <reason>`.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { combinedAuthRefusal } from "./combined_auth_check.ts";
import { runtimePlugin } from "./contract.ts";

/** The 401 for a reason (each made once: the reasons are a short fixed list). */
const refusals = new Map<string, StaticAnswer>();

function refusal(reason: string): StaticAnswer {
  let answer = refusals.get(reason);
  if (answer === undefined) {
    answer = new StaticAnswer(
      401,
      [["cache-control", "private, no-store"]],
      `Plugin combined_auth invalid, message: ${reason}`,
    );
    refusals.set(reason, answer);
  }
  return answer;
}

/** Creates the combined_auth plugin. */
export const combinedAuth = runtimePlugin(PLUGIN_DEFINITIONS.combinedAuth, (c) => {
  return {
    request(ctx) {
      const reason = combinedAuthRefusal(c, ctx.rawQuery, () => ctx.clientIp(), Date.now() / 1000);
      return reason === undefined ? undefined : refusal(reason);
    },
  };
});
