/**
 * A load loop for reload tests (several clients sending requests back to
 * back, counting successes and failures) and a poll-until helper that
 * measures how long a change took to show.
 *
 * @module
 */

/** A running load loop. */
export interface Load {
  /** Successful (200) responses so far. */
  ok(): number;
  /** Stops the clients; resolves with the successes and every failure. */
  stop(): Promise<{ ok: number; failures: string[] }>;
}

/** Starts `clients` loops sending GET `url` until stopped. */
export function startLoad(url: string, clients = 4): Load {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      try {
        const res = await fetch(url);
        await res.body?.cancel();
        if (res.status === 200) ok++;
        else failures.push(`status ${res.status}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  });
  return {
    ok: () => ok,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

/** Polls `probe` until it returns true; resolves with the milliseconds it took (fails after `ms`). */
export async function until(probe: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await probe().catch(() => false)) return Math.round(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not reached within ${ms} ms`);
}
