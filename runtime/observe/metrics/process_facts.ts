/**
 * Facts of the process that every server's registry shows with its own
 * `server` label (as Pingap registers them per server): configuration
 * reloads, build and start time, and the idle time of upstream connections
 * the keep-alive pools evicted (the pools are shared by every server). Each is
 * one {@linkcode FastFamily} registered in every server registry; the
 * registry adds the `server` label when it formats them.
 *
 * @module
 */
import { VERSION } from "../../proxy/errors.ts";
import { FastFamily, type Hist, type Scalar } from "./fast.ts";
import { spec } from "./prom_family.ts";

function scalar(name: string): FastFamily<Scalar> {
  return new FastFamily<Scalar>(spec(name));
}

const NO_LABELS = () => ({});
const reloads = scalar("pingap_config_reloads");
const reloadOk = reloads.series("success", () => ({ result: "success" }));
const reloadFailed = reloads.series("failure", () => ({ result: "failure" }));
const lastOk = scalar("pingap_config_last_reload_successful");
const lastOkAt = scalar("pingap_config_last_reload_success_timestamp_seconds");
const buildInfo = scalar("pingap_build_info");
const startTime = scalar("pingap_start_time_seconds");
const evictions = new FastFamily<Hist>(spec("pingap_upstream_pool_eviction_idle_time"));
const evicted = evictions.series("", NO_LABELS);

const started = Math.floor(Date.now() / 1000);
reloadOk.add(0);
reloadFailed.add(0);
// The configuration this process runs was loaded when it started.
lastOk.series("", NO_LABELS).set(1);
lastOkAt.series("", NO_LABELS).set(started);
// Pingap's label says which rustc built it; here, the Deno that runs it.
buildInfo.series("", () => ({ version: VERSION, rustc_version: `deno ${Deno.version.deno}` })).set(1);
startTime.series("", NO_LABELS).set(started);

/** The shared families by name, registered in every server registry (see `server_state.ts`). */
export const SHARED_FAMILIES: ReadonlyMap<string, FastFamily<Scalar | Hist>> = new Map<
  string,
  FastFamily<Scalar | Hist>
>([
  [reloads.name, reloads],
  [lastOk.name, lastOk],
  [lastOkAt.name, lastOkAt],
  [buildInfo.name, buildInfo],
  [startTime.name, startTime],
  [evictions.name, evictions],
]);

/**
 * A configuration reload was applied (`ok`) or failed: `pingap_config_reloads{result}`, and on success
 * `pingap_config_last_reload_successful` 1 with the time; on failure that gauge goes to 0.
 */
export function configReloaded(ok: boolean): void {
  if (ok) {
    reloadOk.add();
    lastOk.series("", NO_LABELS).set(1);
    lastOkAt.series("", NO_LABELS).set(Math.floor(Date.now() / 1000));
  } else {
    reloadFailed.add();
    lastOk.series("", NO_LABELS).set(0);
  }
}

/** A keep-alive pool evicted an idle upstream connection to make room, after `ms` idle. */
export function observePoolEviction(ms: number): void {
  evicted.observe(ms / 1000);
}
