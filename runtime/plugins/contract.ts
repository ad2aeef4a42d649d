/**
 * The plugin contract: what the runtime half of a plugin is. A half is made
 * with {@linkcode runtimePlugin} from its compiler definition (one of
 * `PLUGIN_DEFINITIONS`), so the compiled config it receives has the type the
 * definition's `compile` returns: no copy of that type here, no cast in the
 * plugin.
 *
 * Its factory runs once per plugin instance (a `[plugins.<name>]` table) and
 * returns {@linkcode PluginHooks}, one per Pingap phase, all optional:
 *
 * | hook               | Pingap phase                               | runs for                                   |
 * | ------------------ | ------------------------------------------ | ------------------------------------------ |
 * | `request`          | `early_request`, `request`, `proxy_upstream` | the plugin's configured `step` only       |
 * | `upstreamResponse` | `upstream_response`                        | an upstream's answer                       |
 * | `response`         | `response`                                 | every answer the location makes            |
 * | `responseBody`     | `response_body_filter`                     | every answer with a body (streaming)       |
 * | `logging`          | `logging`                                  | once, when the response is done            |
 * | `errorPage`        | (Pingap's `error_page`)                    | the errors the proxy answers on a location |
 *
 * A location pays only for the phases some plugin of its chain has: a chain
 * without `responseBody` leaves bodies untouched, one without `logging` adds
 * no watch on the body.
 *
 * An instance whose name and compiled config are unchanged survives a reload
 * (its counters and caches go on, as in Pingap); `dispose` runs when the last
 * generation holding it is disposed.
 *
 * @example A runtime half
 * ```ts
 * import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
 * import { responseWith } from "../http/response_build.ts";
 * import { runtimePlugin } from "./contract.ts";
 * export const ping = runtimePlugin(PLUGIN_DEFINITIONS.ping, (plan) => ({
 *   request: (ctx) => ctx.path === plan.path ? responseWith("pong", { status: 200 }) : undefined,
 * }));
 * ```
 *
 * @module
 */
import type { Fields, Plan, PluginDefinition, PluginPlan, Step } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import type { HttpResponse } from "../http/message.ts";
import type { UpstreamSnapshot } from "../observe/metrics/mod.ts";
import type { StoredCertificate } from "../tls/mod.ts";

export type { PlanOf } from "../../compiler/mod.ts";

/**
 * What a request hook answers with: a response of the message model (runtime/http/message.ts), made with
 * `responseWith`, or a fixed answer made once (`StaticAnswer`).
 */
export type PluginAnswer = HttpResponse;

/** What a plugin may ask of the process. */
export interface PluginEnv {
  /** Process figures for the stats plugin. */
  stats(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** What the admin plugin shows of the proxy serving it (runtime/admin); absent in tests. */
  readonly proxy?: ProxyView;
}

/** The proxy as the admin sees it: what it serves now. */
export interface ProxyView {
  /** The plan serving now (the admin waits for a saved change to be switched in). */
  plan(): Plan | undefined;
  /** Each upstream's backends with their health-check verdict and breaker state. */
  upstreams(): readonly UpstreamSnapshot[];
  /** The certificates served (the admin shows their facts, never their keys). */
  certificates(): readonly StoredCertificate[];
}

/** Who an instance is: its `[plugins.<name>]` name, category and step. */
export interface PluginSelf {
  readonly name: string;
  readonly category: string;
  readonly step: Step;
  /** The plan's `key` (hash of its resolved config): with the name, what a reload compares to keep the instance. */
  readonly key: string;
}

/** What the logging phase learns about a response that is done. */
export interface ResponseDone {
  /** The status sent. */
  readonly status: number;
  /** Milliseconds from the request's start until the response's body ended (or failed, or was cancelled). */
  readonly elapsedMs: number;
}

/** The hooks of one plugin instance; each phase is optional. */
export interface PluginHooks {
  /**
   * Runs at the plugin's `step` (`early_request`, `request` or `proxy_upstream`). Returning an answer answers the
   * request; `undefined` passes it on. May change the context (path, upstream headers, request id).
   */
  request?(ctx: RequestContext): PluginAnswer | undefined | Promise<PluginAnswer | undefined>;
  /** Runs on the upstream's answer (its headers, which it may change), before the response hooks. */
  upstreamResponse?(ctx: RequestContext, headers: Headers, status: number): void;
  /** Runs on the headers of every answer of the location (upstream's or a plugin's). */
  response?(ctx: RequestContext, headers: Headers, status: number): void;
  /**
   * Runs after the response hooks on every answer with a body: returns a transform for the body (compression,
   * sub_filter, cache writes), or `undefined` to leave it. It may change `headers` (e.g. `content-encoding`); the
   * pipeline drops `content-length` when a transform applies.
   */
  responseBody?(
    ctx: RequestContext,
    headers: Headers,
    status: number,
  ): TransformStream<Uint8Array, Uint8Array> | undefined;
  /**
   * The `responseBody` transform content-encodes the body (compression): it runs after every other body transform of
   * the chain, wherever the plugin is listed, as Pingora's compression module runs after the body filters, so that
   * `sub_filter` and the like always see the body uncompressed.
   */
  readonly encodesBody?: boolean;
  /**
   * The `responseBody` hook returns a transform only for an upstream's answer (the cache's write of a miss): an answer
   * a plugin made (a cache hit) skips it and may go out as its bytes.
   */
  readonly upstreamBodyOnly?: boolean;
  /**
   * The location's page for an error the proxy answers itself (`error_page`): `status` and the `message` to show, or
   * undefined for the next plugin's page or the server's template. With `upstream`, `status` is an upstream's answer
   * and a page means the answer is taken over as an error (`intercept`). Must not throw.
   */
  errorPage?(ctx: RequestContext, status: number, message: string, upstream: boolean): HttpResponse | undefined;
  /** Runs once when the response is done (sent, failed or cancelled), for plugins that count. Must not throw. */
  logging?(ctx: RequestContext, done: ResponseDone): void;
  /** Stops timers, frees state: the last generation holding the instance was disposed. */
  dispose?(): void;
}

/** A plugin instance: its hooks and who it is. */
export interface PluginInstance extends PluginHooks, PluginSelf {}

/**
 * Makes a plugin's hooks from its compiled config. `plan` is exactly what the definition's `compile` returned.
 * Return a plain object of closures (it is copied into the instance).
 */
export type PluginFactory<C> = (plan: C, env: PluginEnv, self: PluginSelf) => PluginHooks;

/** The runtime half of one plugin category, paired with its compiler definition. */
export interface RuntimePlugin {
  /** The compiler definition this half runs (the very object of `PLUGIN_DEFINITIONS`). */
  readonly definition: PluginDefinition;
  /** `definition.category`. */
  readonly category: string;
  /** Creates an instance from a plugin plan of this category. */
  create(plan: PluginPlan, env: PluginEnv): PluginInstance;
}

/**
 * Declares the runtime half of `definition`'s category. The factory's `plan` is typed by the definition's `compile`
 * (see {@linkcode PlanOf}).
 *
 * @param definition The compiler definition, from `PLUGIN_DEFINITIONS`.
 * @param factory Makes an instance's hooks.
 * @returns The half, for the registry (runtime/plugins/registry.ts).
 */
export function runtimePlugin<F extends Fields, C>(
  definition: PluginDefinition<F, C>,
  factory: PluginFactory<C>,
): RuntimePlugin {
  const category = definition.category;
  return {
    definition: definition as unknown as PluginDefinition,
    category,
    create(plan, env) {
      if (plan.category !== category) {
        throw new Error(`plugin "${plan.name}": a "${plan.category}" plan given to the "${category}" half`);
      }
      const self: PluginSelf = { name: plan.name, category, step: plan.step, key: plan.key };
      // The one place the plan's config meets its type: the compiler made it with this very definition's `compile`
      // (the registry pairs halves and definitions by object, and pairing_test.ts checks it).
      const hooks = factory(plan.config as C, env, self);
      return { ...hooks, ...self };
    },
  };
}
