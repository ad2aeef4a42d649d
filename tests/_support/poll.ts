/**
 * Waiting in tests for something a process does in its own time (a log line, a file, a reload).
 *
 * @module
 */

/**
 * Calls `probe` every 50 ms until it gives a value (a throw counts as not yet), and returns it; throws
 * `timed out waiting for <what>` after `ms`.
 *
 * @example Usage
 * ```ts
 * import { pollFor } from "./poll.ts";
 * const n = await pollFor("a number", () => Promise.resolve(42));
 * if (n !== 42) throw new Error();
 * ```
 */
export async function pollFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  for (const end = Date.now() + ms;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
