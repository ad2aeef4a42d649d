/**
 * The shared-memory slots (an `Int32Array`) through which the fuzzer's worker reports progress.
 *
 * @module
 */

/** Slot indices. */
export const SLOT = {
  /** Index of the case being run. */
  current: 0,
  /** Cases finished. */
  completed: 1,
  /** Cases that ended with exit 0. */
  exit0: 2,
  /** Cases that ended with exit 1. */
  exit1: 3,
  /** Cases whose TOML parsed. */
  parsed: 4,
  /** The slowest case's time, µs. */
  maxMicros: 5,
  /** The slowest case's index. */
  slowest: 6,
  /** 1 once the worker has its job (module loading is not timed). */
  started: 7,
} as const;

/** Number of slots. */
export const SLOTS = 8;
