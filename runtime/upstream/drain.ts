/**
 * The grace period of `UpstreamClient.drain` (types.ts), shared by the HTTP/1.1 and HTTP/2 clients: a drain ends
 * when the client says its last exchange ended (`settle`), or, after `graceMs`, `cut` closes what is left (and
 * settles it through the client's `close()`).
 *
 * @module
 */

/** A drain under way. */
export interface Drain {
  /** Resolves once settled. */
  readonly done: Promise<void>;
  /** Ends the drain: stops the grace timer and resolves `done`. Calling it again does nothing. */
  readonly settle: () => void;
}

/** Starts a drain whose grace timer (which does not keep the process alive) calls `cut` after `graceMs`. */
export function startDrain(graceMs: number, cut: () => void): Drain {
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(cut, Math.max(0, graceMs));
  Deno.unrefTimer(timer);
  return {
    done: promise,
    settle: () => {
      clearTimeout(timer);
      resolve();
    },
  };
}
