/**
 * Pingap for Deno: a reverse proxy configured with Pingap's TOML, built
 * around a config compiler.
 *
 * - `compiler/`: TOML in, diagnostics and a Plan out (pure).
 * - `runtime/`: executes a Plan on `Deno.serve`; `runtime/storage/` reads
 *   the config (`readSources`, `checkConfig`).
 *
 * Run as a program: `deno task check -c conf/` checks a config;
 * `deno task start -c conf/` runs the proxy.
 *
 * @module
 */
export * from "./compiler/mod.ts";
export { checkConfig, type CheckOptions, readSources } from "./runtime/storage/mod.ts";
import { main } from "./runtime/cli.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
