/**
 * What the admin shows of the running process: `/basic` (Pingap's process
 * facts, with `upstream_healthy_status`) and `/status` (ours): each
 * upstream's backends with their health-check verdict and breaker state,
 * and requests in flight, accepted, answered with a 5xx, and both per
 * second (between two reads of `/status`) per server and location. The counts are those the
 * proxy keeps anyway (the stats plugin's); reading them costs the request
 * path nothing.
 *
 * @module
 */
import { SUPPORTED_CATEGORIES } from "../../compiler/mod.ts";
import type { PluginEnv } from "../plugins/mod.ts";
import { adminContext } from "./context.ts";

/** The last reading of the accepted counts, per admin instance, to make rates of. */
export interface RateMemory {
  at: number;
  accepted: Map<string, number>;
}

/** A fresh {@linkcode RateMemory}. */
export function rateMemory(): RateMemory {
  return { at: 0, accepted: new Map() };
}

interface UpstreamHealth {
  healthy: number;
  total: number;
  unhealthy_backends: string[];
}

function upstreamHealth(env: PluginEnv): Record<string, UpstreamHealth> {
  const out: Record<string, UpstreamHealth> = {};
  for (const u of env.proxy?.upstreams() ?? []) {
    const unhealthy = u.backends.filter((b) => b.healthy === false).map((b) => b.backend);
    out[u.upstream] = {
      healthy: u.backends.length - unhealthy.length,
      total: u.backends.length,
      unhealthy_backends: unhealthy,
    };
  }
  return out;
}

/** `/basic`: Pingap's process facts. */
export async function basicInfo(env: PluginEnv): Promise<Record<string, unknown>> {
  const stats = await env.stats();
  const plan = adminContext().current?.();
  return {
    ...stats,
    config_hash: plan?.hash ?? "",
    user: plan?.basic.user ?? "",
    group: plan?.basic.group ?? "",
    pid: String(stats.pid ?? Deno.pid),
    features: ["default"],
    supported_plugins: SUPPORTED_CATEGORIES,
    upstream_healthy_status: upstreamHealth(env),
    support_history: true,
    git_hash: "",
    now: Math.floor(Date.now() / 1000),
  };
}

/** `/status`: health per backend, counts and rates per server and location. */
export async function liveStatus(env: PluginEnv, memory: RateMemory): Promise<Record<string, unknown>> {
  const stats = await env.stats() as {
    processing?: number;
    accepted?: number;
    location_processing?: Record<string, number>;
    location_accepted?: Record<string, number>;
    location_errors?: Record<string, number>;
  };
  const now = Date.now();
  const seconds = memory.at ? (now - memory.at) / 1000 : 0;
  const rate = (key: string, value: number) => {
    const before = memory.accepted.get(key);
    memory.accepted.set(key, value);
    return seconds > 0 && before !== undefined && value >= before
      ? Math.round((value - before) / seconds * 100) / 100
      : null;
  };
  const plan = adminContext().current?.();
  const location = (name: string) => {
    const accepted = stats.location_accepted?.[name] ?? 0;
    const errors = stats.location_errors?.[name] ?? 0;
    return {
      name,
      processing: stats.location_processing?.[name] ?? 0,
      accepted,
      rate: rate(`location ${name}`, accepted),
      errors,
      error_rate: rate(`location errors ${name}`, errors),
    };
  };
  const servers = (plan?.servers ?? []).map((s) => {
    const locations = s.locations.map((i) => location(plan!.locations[i]!.name));
    const accepted = locations.reduce((n, l) => n + l.accepted, 0);
    const errors = locations.reduce((n, l) => n + l.errors, 0);
    return {
      name: s.name,
      addrs: s.addrs.map((a) => `${a.hostname}:${a.port}`),
      processing: locations.reduce((n, l) => n + l.processing, 0),
      accepted,
      rate: rate(`server ${s.name}`, accepted),
      errors,
      error_rate: rate(`server errors ${s.name}`, errors),
      locations,
    };
  });
  const upstreams = (env.proxy?.upstreams() ?? []).map((u) => ({
    name: u.upstream,
    processing: u.processing,
    backends: u.backends.map((b) => ({
      addr: b.backend,
      healthy: b.healthy ?? null,
      ...(b.state !== undefined ? { breaker: b.state } : {}),
      ...(b.failureRatePercent !== undefined ? { failure_rate_percent: b.failureRatePercent } : {}),
      ...(b.requests !== undefined ? { requests: b.requests } : {}),
    })),
  }));
  const accepted = stats.accepted ?? 0;
  const result = {
    config_hash: plan?.hash ?? "",
    processing: stats.processing ?? 0,
    accepted,
    rate: rate("process", accepted),
    servers,
    upstreams,
    now: Math.floor(now / 1000),
  };
  memory.at = now;
  return result;
}
