/**
 * Pingap's human-readable sizes and durations (`{size_human}`,
 * `{latency_human}`, `{:*_human}`): whole units with one truncated decimal,
 * `.0` left out.
 *
 * @module
 */

function oneDecimal(value: number, unit: number, suffix: string): string {
  const whole = Math.floor(value / unit);
  const tenth = Math.floor((value % unit) * 10 / unit);
  return tenth === 0 ? `${whole}${suffix}` : `${whole}.${tenth}${suffix}`;
}

/**
 * Decimal size: `512B`, `1KB` (1000 bytes), `1.1KB`, `1.2MB`, `3GB`.
 *
 * @example Usage
 * ```ts
 * import { humanSize } from "./human.ts";
 * if (humanSize(1124) !== "1.1KB" || humanSize(999) !== "999B") throw new Error();
 * ```
 */
export function humanSize(bytes: number): string {
  if (bytes >= 1e9) return oneDecimal(bytes, 1e9, "GB");
  if (bytes >= 1e6) return oneDecimal(bytes, 1e6, "MB");
  if (bytes >= 1e3) return oneDecimal(bytes, 1e3, "KB");
  return `${bytes}B`;
}

/**
 * Duration from whole milliseconds: `512ms`, `1.1s`, `1.8m`, `1.9h`.
 *
 * @example Usage
 * ```ts
 * import { humanDuration } from "./human.ts";
 * if (humanDuration(1_190) !== "1.1s" || humanDuration(90_000) !== "1.5m") throw new Error();
 * ```
 */
export function humanDuration(ms: number): string {
  const v = Math.floor(ms);
  if (v < 1000) return `${v}ms`;
  if (v < 60_000) return oneDecimal(v, 1000, "s");
  if (v < 3_600_000) return oneDecimal(v, 60_000, "m");
  return oneDecimal(v, 3_600_000, "h");
}
