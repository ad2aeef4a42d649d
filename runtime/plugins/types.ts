/**
 * The runtime half of a plugin: a factory that receives the compiled config
 * (exactly what the compiler's `compile` returned) and returns an instance
 * with hooks for Pingap's steps. Request-phase hooks run only at the
 * plugin's step; response hooks run for every plugin of the chain.
 *
 * @module
 */
import type { PluginPlan, Step } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import type { HttpResponse } from "../http/message.ts";

/**
 * What a request hook answers with: a response of the message model (runtime/http/message.ts), made with
 * `responseWith`, or a fixed answer made once (`StaticAnswer`).
 */
export type PluginAnswer = HttpResponse;

/** What a plugin may ask of the process. */
export interface PluginEnv {
  /** Process figures for the stats plugin. */
  stats(): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** A plugin instance. */
export interface PluginInstance {
  readonly name: string;
  readonly step: Step;
  /** Runs at `step`. Returning an answer answers the request. */
  request?(ctx: RequestContext): PluginAnswer | undefined | Promise<PluginAnswer | undefined>;
  /** Runs on the upstream response's headers. */
  upstreamResponse?(ctx: RequestContext, headers: Headers, status: number): void;
  /** Runs on the final response's headers (every plugin of the chain, after the upstream answered). */
  response?(ctx: RequestContext, headers: Headers, status: number): void;
  /** Stops timers, frees state. */
  dispose?(): void;
}

/** Creates a plugin instance from its plan. */
export type PluginFactory = (plan: PluginPlan, env: PluginEnv) => PluginInstance;

/** Casts a plan's config to the compiled type of its category (the compiler guarantees it). */
export function configOf<T>(plan: PluginPlan): T {
  return plan.config as T;
}
