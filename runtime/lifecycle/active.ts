/**
 * An activated Plan: the Plan plus everything with side effects that it
 * needs (plugin instances, upstream pools and health checks), ready to
 * serve. Built fully before it replaces the previous one; disposed after.
 *
 * @module
 */
import type { HeaderPolicy, LocationPlan, Plan, ServerPlan, Step, UpstreamPlan } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import type { PluginInstance, PluginInstances } from "../plugins/mod.ts";
import type { Backend, UpstreamClient } from "../upstream/types.ts";
import type { ServerMetrics } from "../observe/metrics/mod.ts";
import type { ServerObserver } from "../observe/observer.ts";
import type { ChallengeTokens } from "../acme/challenges.ts";

/** A location with its plugin chain split by hook. */
export interface ActiveLocation {
  readonly plan: LocationPlan;
  /** Request-phase hooks per step, in chain order. */
  readonly steps: { readonly [S in Step]: readonly PluginInstance[] };
  readonly upstreamResponse: readonly PluginInstance[];
  readonly response: readonly PluginInstance[];
  /** Plugins with a response-body transform (none: bodies go untouched). */
  readonly responseBody: readonly PluginInstance[];
  /** Those of {@linkcode responseBody} that also transform a plugin's answer (not `upstreamBodyOnly`). */
  readonly answerBody: readonly PluginInstance[];
  /** Plugins with pages for the proxy's own errors (`error_page`), in chain order. */
  readonly errorPages: readonly PluginInstance[];
  /** Plugins with a logging hook (none: no watch on the body). */
  readonly logging: readonly PluginInstance[];
  /** The request-header options of the location's own upstream, when one is off (see `RequestContext.headerPolicy`). */
  readonly headerPolicy: HeaderPolicy | undefined;
  /** Requests in flight (max_processing). */
  processing: number;
  /** Requests accepted since activation. */
  accepted: number;
  /** Requests answered with a 5xx since activation (the admin's error rates). */
  errors: number;
}

/** A server with its locations in rank order. */
export interface ActiveServer {
  readonly plan: ServerPlan;
  /** Location plans in rank order (what route lookup needs). */
  readonly ranked: readonly LocationPlan[];
  /** Active locations in rank order. */
  readonly locations: readonly ActiveLocation[];
  /** Prometheus metrics, when `prometheus_metrics` is set. */
  readonly metrics?: ServerMetrics;
  /** Access log, request metrics, spans, Server-Timing; absent when the server records none. */
  readonly observer?: ServerObserver;
}

/** An upstream ready to take requests. */
export interface ActiveUpstream {
  readonly plan: UpstreamPlan;
  readonly client: UpstreamClient;
  /** Picks a backend for the request, skipping unhealthy ones and those in `tried`. */
  pick(ctx: RequestContext, tried?: ReadonlySet<string>): Backend | undefined;
  /** Called when an exchange starts (least_conn, in-flight gauges). */
  begin(backend: Backend): void;
  /**
   * Called when it ends; `status` undefined means a transport failure, null a request refused before sending (a
   * client error: no verdict on the backend).
   */
  end(backend: Backend, status: number | undefined | null): void;
}

/** The activated plan. */
export interface ActivePlan {
  readonly plan: Plan;
  readonly servers: ReadonlyMap<string, ActiveServer>;
  /** The plugin instances (a reload keeps the unchanged ones). */
  readonly plugins: PluginInstances;
  /** By plan upstream index. */
  readonly upstreams: readonly (ActiveUpstream | undefined)[];
  readonly upstreamsByName: ReadonlyMap<string, ActiveUpstream>;
  /** Process-wide counters. */
  readonly counters: { processing: number; accepted: number };
  /** The proxy's ACME http-01 tokens, answered on plain HTTP before routing. */
  readonly challenges: ChallengeTokens;
  /** Frees pools, timers and plugins. */
  dispose(): Promise<void>;
}
