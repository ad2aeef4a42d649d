/**
 * Request-phase plugin hooks run with a stopwatch, for `Server-Timing`'s
 * `plugin.<name>` entries (only on servers with `enable_server_timing`; the
 * pipeline's plain loop runs otherwise).
 *
 * @module
 */
import type { RequestContext } from "./context.ts";
import type { PluginAnswer } from "../plugins/mod.ts";

/** A hook with the plugin's name. */
export interface NamedHook {
  readonly name: string;
  request?(ctx: RequestContext): PluginAnswer | undefined | Promise<PluginAnswer | undefined>;
}

/** Runs `hooks` in order until one answers, adding each one's milliseconds to `times[name]`. */
export async function timedStep(
  hooks: readonly NamedHook[],
  ctx: RequestContext,
  times: Record<string, number>,
): Promise<PluginAnswer | undefined> {
  for (let i = 0; i < hooks.length; i++) {
    const hook = hooks[i]!;
    const t0 = performance.now();
    const r = await hook.request!(ctx);
    times[hook.name] = (times[hook.name] ?? 0) + performance.now() - t0;
    if (r !== undefined) {
      ctx.answeredBy = hook.name;
      return r;
    }
  }
  return undefined;
}
