/**
 * `health` (Pingap 0.16): answers a readiness probe at `path` with the health of the upstreams' backends, from the
 * same state the health checks and the admin see (`PluginEnv.proxy`).
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { responseWith } from "../http/response_build.ts";
import type { UpstreamSnapshot } from "../observe/metrics/mod.ts";
import { runtimePlugin } from "./contract.ts";

/** One upstream's line of the answer. */
interface UpstreamReadiness {
  healthy: number;
  total: number;
  ready: boolean;
  unhealthy_backends?: string[];
  reason?: string;
}

/** The `health` plugin's runtime half. */
export const health = runtimePlugin(PLUGIN_DEFINITIONS.health, (plan, env) => ({
  request(ctx) {
    if (ctx.path !== plan.path) return undefined;
    const upstreams = plan.upstreams;
    const serving = env.proxy?.plan();
    const snapshots = new Map<string, UpstreamSnapshot>();
    for (const s of env.proxy?.upstreams() ?? []) snapshots.set(s.upstream, s);
    const transparent = new Set(serving?.upstreams.filter((u) => u.discovery === "transparent").map((u) => u.name));
    // Every upstream of the plan unless named; a transparent one only when named.
    const judged = upstreams.length > 0
      ? upstreams
      : (serving?.upstreams.map((u) => u.name) ?? [...snapshots.keys()]).filter((n) => !transparent.has(n));
    const lines: Record<string, UpstreamReadiness> = {};
    let ready = true;
    for (const name of judged) {
      const line = readiness(snapshots.get(name), transparent.has(name), serving !== undefined, plan.minHealthy);
      ready &&= line.ready;
      lines[name] = line;
    }
    return responseWith(JSON.stringify({ ready, upstreams: lines }), { status: ready ? 200 : 503 }, {
      "content-type": "application/json",
      "cache-control": "no-store",
    });
  },
}));

function readiness(
  snapshot: UpstreamSnapshot | undefined,
  transparent: boolean,
  known: boolean,
  minHealthy: number,
): UpstreamReadiness {
  if (transparent) return { healthy: 0, total: 0, ready: true };
  if (!snapshot) {
    // The compiler refuses a name that is not defined; an upstream of the plan not yet built has no backends.
    return { healthy: 0, total: 0, ready: false, reason: known ? "no backends" : "no such upstream" };
  }
  const down = snapshot.backends.filter((b) => b.healthy === false).map((b) => b.backend);
  const total = snapshot.backends.length;
  const healthy = total - down.length;
  const line: UpstreamReadiness = { healthy, total, ready: healthy >= minHealthy };
  if (down.length > 0) line.unhealthy_backends = down;
  return line;
}
