/**
 * `limit`: refuses a client key's requests over `max` per sliding interval
 * (rate) or at the same time (inflight), as Pingap 0.16. The decisions are
 * the plain functions {@linkcode limitKey} and {@linkcode exceedBody} and
 * the counters of limit_counter.ts; the state lives in limit_share.ts.
 *
 * @module
 */
import { type LimitPlan, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import { responseWith } from "../http/response_build.ts";
import type { PluginHooks } from "./contract.ts";
import { plainAnswer } from "./forbidden.ts";
import { closeLimitState, createLimitState } from "./limit_share.ts";
import { runtimePlugin } from "./contract.ts";

/** Where a limit key is read from. */
export interface KeySource {
  clientIp(): string;
  header(name: string): string | null;
  cookie(name: string): string | undefined;
  query(name: string): string | undefined;
}

/** The client key of a request under `plan`; "" when the request has none (a missing header, cookie or query). */
export function limitKey(plan: Pick<LimitPlan, "tag" | "key">, req: KeySource): string {
  // Without a key name (a warning at check), every request counts as the same client: one budget, never none.
  if (plan.key === "" && plan.tag !== "ip") return "*";
  switch (plan.tag) {
    case "ip":
      return req.clientIp();
    case "header":
      return req.header(plan.key) ?? "";
    case "cookie":
      return req.cookie(plan.key) ?? "";
    case "query":
      return req.query(plan.key) ?? "";
  }
}

/** Pingap's body of a refusal: `Plugin limit, exceed limit <count>/<max>`. */
export function exceedBody(value: number, max: number): string {
  return `Plugin limit, exceed limit ${value}/${max}`;
}

/** Pingap's body of `missing_key = "reject"`'s 400. */
export function missingKeyBody(plan: Pick<LimitPlan, "tag" | "keyName">): string {
  const what = plan.tag === "ip"
    ? "the client address"
    : plan.tag === "header"
    ? `the header ${plan.keyName}`
    : plan.tag === "cookie"
    ? `the cookie ${plan.keyName}`
    : `the query parameter ${plan.keyName}`;
  return `Plugin limit, ${what} is required`;
}

/** What a limit with `headers = true` tells the client. */
interface Quota {
  readonly limit: number;
  readonly remaining: number;
  /** Seconds; undefined for inflight. */
  readonly reset: number | undefined;
}

/** The quota with the least left among a request's limits (or that of the limit that refused it). */
const quotas = new WeakMap<RequestContext, Quota>();

function quotaFields(q: Quota): [string, string][] {
  const fields: [string, string][] = [
    ["x-ratelimit-limit", String(q.limit)],
    ["x-ratelimit-remaining", String(q.remaining)],
  ];
  if (q.reset !== undefined) fields.push(["x-ratelimit-reset", String(q.reset)]);
  return fields;
}

/** Creates the limit plugin. */
export const limit = runtimePlugin(PLUGIN_DEFINITIONS.limit, (c, _env, plan) => {
  const state = createLimitState(plan.name, plan.key, c.type, c.interval);
  const { rate, inflight } = state;
  const max = c.max;
  const missing = c.rejectMissingKey ? plainAnswer(400, missingKeyBody(c)) : undefined;
  const retryAfter: [string, string][] = c.retryAfter === "" ? [] : [["retry-after", c.retryAfter]];
  const base: [string, string][] = [["cache-control", "private, no-cache"], ...retryAfter];
  // Without a message of its own or the budget headers, the refusal is the same bytes every time.
  const fixed = c.message !== "" && !c.headers ? plainAnswer(c.status, c.message, retryAfter) : undefined;

  const refuse = (ctx: RequestContext, value: number) => {
    if (fixed) return fixed;
    const fields = [...base];
    const q = quotas.get(ctx);
    if (c.headers && q) fields.push(...quotaFields(q));
    return responseWith(c.message !== "" ? c.message : exceedBody(value, max), { status: c.status }, fields);
  };

  const note = (ctx: RequestContext, key: string, value: number) => {
    const refused = value > max;
    if (!c.headers) {
      if (refused) quotas.delete(ctx);
      return;
    }
    const q: Quota = {
      limit: max,
      remaining: Math.floor(Math.max(max - value, 0)),
      reset: rate ? rate.counter.resetSeconds(key, Date.now()) : undefined,
    };
    const noted = quotas.get(ctx);
    if (refused || noted === undefined || q.remaining < noted.remaining) quotas.set(ctx, q);
  };

  const instance: PluginHooks = {
    request(ctx) {
      const key = limitKey(c, ctx);
      if (key === "") return missing;
      let value: number;
      if (rate) value = rate.take(key, max, Date.now());
      else {
        value = inflight!.enter(key);
        if (value > max) inflight!.leave(key);
        else ctx.onFinish(() => inflight!.leave(key));
      }
      if (c.headers || value > max) note(ctx, key, value);
      return value > max ? refuse(ctx, value) : undefined;
    },
    dispose() {
      closeLimitState(state);
    },
  };
  if (c.headers) {
    instance.response = (ctx, headers) => {
      const q = quotas.get(ctx);
      if (q) { for (const [name, value] of quotaFields(q)) headers.set(name, value); }
    };
  }
  return instance;
});
