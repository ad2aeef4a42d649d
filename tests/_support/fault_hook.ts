/**
 * `pingap start` in its own process with the test-only hook `PINGAP_TEST_FAULT` (runtime/process/contain.ts), in front of
 * an echo origin named `o`: the set-up the containment and worker-restart tests share.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startEchoOrigin } from "./origin.ts";
import { type Child, spawnDeno, START_ARGS } from "./process.ts";

/** Options of {@linkcode withFaultHook}. */
export interface FaultHookOptions {
  /** The value of `PINGAP_TEST_FAULT` (`throw`, `worker-exit`, …). */
  readonly fault: string;
  /** More `start` arguments, e.g. `["--threads", "2"]`. */
  readonly args?: readonly string[];
  /** More keys of `[servers.s]`, one a line. */
  readonly server?: string;
}

/**
 * Starts the CLI on a config (its pid file in a temporary directory) whose server `s` on a free port proxies every
 * path to the echo origin `o`, runs `test`, then stops the process and asserts that it exited 0.
 */
export async function withFaultHook(
  options: FaultHookOptions,
  test: (child: Child, port: number) => Promise<void>,
): Promise<void> {
  const origin = await startEchoOrigin("o");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  await Deno.writeTextFile(
    file,
    `
[basic]
pid_file = "${dir}/pingap.pid"
[servers.s]
addr = "127.0.0.1:${port}"
${options.server ?? ""}
locations = ["a"]
[locations.a]
upstream = "o"
[upstreams.o]
addrs = ["${origin.addr}"]
`,
  );
  const child = spawnDeno([...START_ARGS, file, ...options.args ?? []], { env: { PINGAP_TEST_FAULT: options.fault } });
  try {
    await test(child, port);
  } finally {
    const code = await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
    assert.equal(code, 0, child.output());
  }
}
