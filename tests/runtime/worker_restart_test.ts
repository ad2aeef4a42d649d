/**
 * A worker isolate that dies is restarted while the others serve (issue 15,
 * Build 2; nginx's master/worker promise): `pingap start --threads 2` in its
 * own process, with the test-only hook `PINGAP_TEST_FAULT=worker-exit`
 * (runtime/process/contain.ts), on which SIGUSR2 makes worker 1 throw an error that
 * containment lets through, so that isolate really dies. Two client loops
 * send requests on new connections before the death, while only the other
 * worker serves, and after the new worker started; none fails, and the main
 * isolate logs the death and the new worker.
 *
 * Two things are lost with a worker that crashes, as with nginx's
 * `reuseport` workers, and the test keeps clear of them rather than count
 * them as failures of the others: a request in flight on it (the loops hold
 * their next request from the signal until the death is logged), and a
 * connection the kernel queued on its socket in the instant between its
 * death and the socket's close, which is reset at connect, before any byte
 * of the request was sent (the loop sends that request again, as a browser
 * would, and the test prints how many there were; `tcp_migrate_req = 1`
 * moves such connections to a live socket instead).
 *
 * @module
 */
import assert from "node:assert/strict";
import { withFaultHook } from "../_support/fault_hook.ts";
import { restartDelay } from "../../runtime/process/workers.ts";

Deno.test("workers: a worker that dies is replaced, and requests keep succeeding throughout", async () => {
  await withFaultHook({ fault: "worker-exit", args: ["--threads", "2"] }, async (child, port) => {
    let ok = 0;
    const failures: string[] = [];
    /** Connections reset at connect (nothing sent; sent again), by phase. */
    const resets: string[] = [];
    /** Requests answered while worker 1 was dead, per round. */
    const served: number[] = [];
    let stop = false;
    /** Where the test is, for the failure messages. */
    let phase = "both workers";
    let hold: PromiseWithResolvers<void> | undefined;
    let idle = 0;
    /** Requests one after another, each on a new connection, so the kernel spreads them over the workers. */
    async function loop(): Promise<void> {
      while (!stop) {
        if (hold) {
          idle++;
          await hold.promise;
          idle--;
        }
        try {
          const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
          const body = await res.text();
          if (res.status === 200 && body.includes(`"name":"o"`)) ok++;
          else failures.push(`${phase}: ${res.status} ${body.slice(0, 80)}`);
        } catch (e) {
          const what = `${(e as Error).message} (${(e as Error).cause ?? ""})`;
          // A connection the kernel queued on the dying worker's socket is reset when that socket closes: at connect,
          // or just after the request was written (still never accepted, so never served). Only while worker 1 is
          // dead; a reset in any other phase is a failure.
          if (/tcp connect error: Connection reset/.test(what)) resets.push(phase);
          else if (/connection reset/i.test(what) && phase.endsWith("worker 1 dead")) resets.push(phase);
          else failures.push(`${phase}: ${what}`);
        }
      }
    }
    await child.waitFor(/listening on .* with 2 workers/);
    const loops = [loop(), loop()];
    try {
      for (let round = 1; round <= 2; round++) {
        const before = ok;
        while (ok < before + 50) await new Promise((r) => setTimeout(r, 20));
        hold = Promise.withResolvers();
        while (idle < 2) await new Promise((r) => setTimeout(r, 1));
        Deno.kill(child.pid, "SIGUSR2");
        await child.waitFor(
          new RegExp(`(ERROR worker 1 died: Uncaught TestWorkerExit: test fault: worker 1 dies[^]*){${round}}`),
        );
        const died = ok;
        phase = `round ${round}: worker 1 dead`;
        hold.resolve();
        hold = undefined;
        await child.waitFor(new RegExp(`(INFO worker 1 started again: serving with the others[^]*){${round}}`));
        served.push(ok - died);
        phase = `round ${round}: worker 1 started again`;
        const after = ok;
        while (ok < after + 50) await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      stop = true;
      hold?.resolve();
      await Promise.all(loops);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} requests failed`);
    assert.ok(ok >= 200, `${ok} requests`);
    console.log(
      `${ok} requests, none failed; answered while worker 1 was dead: ${served.join(", ")}; ` +
        `reset at connect and sent again: ${resets.length ? resets.join(", ") : "none"}`,
    );
  });
});

Deno.test("restartDelay(): 100 ms, doubling for each death soon after a start, at most 30 s", () => {
  assert.deepEqual([0, 1, 2, 3].map(restartDelay), [100, 200, 400, 800]);
  assert.equal(restartDelay(9), 30_000);
  assert.equal(restartDelay(1000), 30_000);
});
