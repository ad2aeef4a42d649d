/**
 * Pingap for Deno: a reverse proxy configured with Pingap's TOML, built
 * around a config compiler.
 *
 * - `compiler/`: TOML in, diagnostics and a Plan out (pure).
 * - `runtime/`: executes a Plan and hot-swaps it (`startProxy`, `serve`);
 *   it also reads the config from files and etcd (`readSources`,
 *   `checkConfig`).
 *
 * Run as a program: `deno task check -c conf/` checks a config;
 * `deno task start -c conf/` runs the proxy.
 *
 * @module
 */
export * from "./compiler/mod.ts";
export {
  checkConfig,
  type CheckOptions,
  type CheckResult,
  readSources,
  type RunningProxy,
  serve,
  type ServeOptions,
  type StartOptions,
  startProxy,
} from "./runtime/mod.ts";
import { main } from "./runtime/mod.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
