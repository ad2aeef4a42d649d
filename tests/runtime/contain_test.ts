/**
 * Faults are contained (issue 15, Build 2): `pingap start` in its own
 * process, with the test-only `PINGAP_TEST_FAULT` hook (runtime/process/contain.ts),
 * which makes SIGUSR2 throw in a callback and leave a rejection nobody
 * awaits. The process keeps serving, logs both at ERROR with their stack,
 * and counts them in `pingap_uncaught_errors_total`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { withFaultHook } from "../_support/fault_hook.ts";

Deno.test("contain: a throw in a callback and an unawaited rejection are logged and counted; serving goes on", async () => {
  await withFaultHook({ fault: "throw", server: 'prometheus_metrics = "/metrics"' }, async (child, port) => {
    await child.waitFor(/listening on/);
    assert.equal((await (await fetch(`http://127.0.0.1:${port}/`)).json()).name, "o");
    for (let round = 1; round <= 2; round++) {
      Deno.kill(child.pid, "SIGUSR2");
      const error = new RegExp(
        `ERROR uncaught exception contained in main, serving on: Error: test fault: thrown in a callback \\(main\\)\\n\\s+at `,
        "g",
      );
      const rejection =
        /ERROR unhandled promise rejection contained in main, serving on: Error: test fault: a rejection/g;
      // Both lines, with the stack, once per round.
      await child.waitFor(new RegExp(`(${error.source}[^]*){${round}}`));
      await child.waitFor(new RegExp(`(${rejection.source}[^]*){${round}}`));
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 200, "the process still serves");
      assert.equal((await res.json()).name, "o");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, new RegExp(`^pingap_uncaught_errors_total\\{kind="error"\\} ${round}$`, "m"));
      assert.match(metrics, new RegExp(`^pingap_uncaught_errors_total\\{kind="rejection"\\} ${round}$`, "m"));
    }
  });
});

Deno.test("contain: with worker isolates, each contains its own faults and none dies", async () => {
  await withFaultHook({ fault: "throw", args: ["--threads", "2"] }, async (child, port) => {
    await child.waitFor(/listening on .* with 2 workers/);
    Deno.kill(child.pid, "SIGUSR2");
    for (const isolate of ["main", "worker 1", "worker 2"]) {
      await child.waitFor(
        new RegExp(`ERROR uncaught exception contained in ${isolate}, serving on: Error: test fault`),
      );
      await child.waitFor(new RegExp(`ERROR unhandled promise rejection contained in ${isolate}, serving on: Error`));
    }
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
      assert.equal((await res.json()).name, "o");
    }
    assert.doesNotMatch(child.output(), /died/);
  });
});
