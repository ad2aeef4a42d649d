/**
 * The proxy alone in its own process, for tests that measure it (peak RSS)
 * or must survive it: `deno run -A --unstable-net --unstable-no-legacy-abort
 * tests/_support/proxy_main.ts <file.toml> [--access-log]`. Prints `listening <port>` (the
 * first listener) on stdout once serving, shuts down on SIGTERM/SIGINT and
 * exits 0. Access-log lines are dropped, unless `--access-log` lets them go
 * where the config says (`access_log = "stdout …"`: this process's stdout).
 *
 * @module
 */
import { compileSources, formatPath } from "../../compiler/mod.ts";
import { startProxy } from "../../runtime/lifecycle/start.ts";

const file = Deno.args[0];
if (!file) {
  console.error("usage: proxy_main.ts <file.toml>");
  Deno.exit(2);
}
const { plan, diagnostics } = compileSources([{ file, text: await Deno.readTextFile(file) }]);
if (!plan) {
  for (const d of diagnostics) console.error(`${file}:${d.line ?? "?"}: ${formatPath(d.path)}: ${d.message}`);
  Deno.exit(2);
}
const proxy = await startProxy(plan, Deno.args[1] === "--access-log" ? {} : { log: () => {} });
console.log(`listening ${proxy.listening[0]?.port}`);
const stop = Promise.withResolvers<void>();
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(sig, () => {
    // Said on stderr, so a test that finds the proxy gone can tell a stop it was sent from a stop it was not.
    console.error(`proxy_main: ${sig}, shutting down`);
    stop.resolve();
  });
}
await stop.promise;
await proxy.shutdown();
Deno.exit(0);
