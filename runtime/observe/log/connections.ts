/**
 * Downstream connections as the access log sees them. `Deno.serve` gives a
 * request its peer address and port but no connection object, so a
 * connection is recognised by (peer address, peer port, local port): the
 * first request on it gets a new id, later ones are "reused". Only formats
 * that print `{:connection_id}`, `{:connection_reused}` or
 * `{:connection_time}` consult the table. An approximation: a peer port
 * reused by a new connection before the table is cleared (at
 * {@linkcode MAX_CONNECTIONS} entries) continues the old one's id.
 *
 * @module
 */

/** What the table knows of one connection. */
export interface ConnectionInfo {
  /** Sequence number, from 1. */
  readonly id: number;
  /** Not the connection's first request. */
  readonly reused: boolean;
  /** When the connection's first request was seen (ms, `Date.now()`). */
  readonly since: number;
}

/** Entries kept before the table starts over. */
export const MAX_CONNECTIONS = 65_536;

const table = new Map<string, { id: number; since: number }>();
let next = 1;

/**
 * Records a request from `remote:port` to `localPort` and says which
 * connection it came on.
 *
 * @example Usage
 * ```ts
 * import { seeConnection } from "./connections.ts";
 * const a = seeConnection("10.0.0.1", 50000, 80, 1000);
 * const b = seeConnection("10.0.0.1", 50000, 80, 2000);
 * if (a.reused || !b.reused || a.id !== b.id || b.since !== 1000) throw new Error();
 * ```
 */
export function seeConnection(remote: string, port: number, localPort: number, now: number): ConnectionInfo {
  const key = `${remote} ${port} ${localPort}`;
  const known = table.get(key);
  if (known) return { id: known.id, reused: true, since: known.since };
  if (table.size >= MAX_CONNECTIONS) table.clear();
  const entry = { id: next++, since: now };
  table.set(key, entry);
  return { id: entry.id, reused: false, since: now };
}
