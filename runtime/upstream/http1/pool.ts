/**
 * The keep-alive pool of the HTTP/1.1 upstream client: idle connections per backend address, newest first, at most
 * `poolSize` each, closed after `idleTimeout`, or as soon as the server closes them or sends anything (each keeps a
 * read pending while parked, see {@linkcode Http1Conn.park}): a connection that received a byte while idle is never
 * reused.
 *
 * @module
 */

import type { Http1Conn } from "./conn.ts";
import { observePoolEviction } from "../../observe/metrics/process_facts.ts";

/** Idle connections per backend address. */
export class Http1Pool {
  readonly #size: number;
  readonly #idleTimeout: number;
  readonly #idle = new Map<string, Http1Conn[]>();
  #count = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #onIdleEnd: (conn: Http1Conn) => void;
  readonly #sweep: () => void;

  /**
   * Creates an empty pool.
   *
   * @param size Idle connections kept per address (0 disables pooling).
   * @param idleTimeout Idle lifetime in ms (0 disables pooling).
   */
  constructor(size: number, idleTimeout: number) {
    this.#size = size > 0 && idleTimeout > 0 ? size : 0;
    this.#idleTimeout = idleTimeout;
    this.#onIdleEnd = this.#remove.bind(this);
    this.#sweep = this.#sweepExpired.bind(this);
  }

  /** Idle connections in the pool. */
  get idleCount(): number {
    return this.#count;
  }

  /**
   * Takes the most recently parked live connection to `addr`.
   *
   * @param addr Backend address.
   * @returns A connection, or undefined when none is idle.
   */
  take(addr: string): Http1Conn | undefined {
    const list = this.#idle.get(addr);
    if (list === undefined) return undefined;
    const oldest = Date.now() - this.#idleTimeout;
    let conn: Http1Conn | undefined;
    while ((conn = list.pop()) !== undefined) {
      this.#count--;
      conn.unpark();
      if (!conn.closed && conn.idleSince > oldest) break;
      conn.close();
    }
    if (list.length === 0) this.#idle.delete(addr);
    return conn;
  }

  /**
   * Parks `conn` for reuse, or closes it when its address already has `size` idle connections.
   *
   * @param conn A connection whose exchange completed cleanly.
   */
  put(conn: Http1Conn): void {
    if (conn.closed) return;
    let list = this.#idle.get(conn.addr);
    if (list === undefined) {
      if (this.#size === 0) {
        conn.close();
        return;
      }
      list = [];
      this.#idle.set(conn.addr, list);
    } else if (list.length >= this.#size) {
      // Full: the connection idle longest makes room (as Pingora's pool), and how long it sat idle is recorded.
      const old = list.shift()!;
      this.#count--;
      old.unpark();
      old.close();
      observePoolEviction(Date.now() - old.idleSince);
    }
    list.push(conn);
    this.#count++;
    conn.park(this.#onIdleEnd);
    if (this.#sweeper === undefined) {
      const every = Math.min(1000, Math.max(10, this.#idleTimeout / 4));
      this.#sweeper = setInterval(this.#sweep, every);
      Deno.unrefTimer(this.#sweeper as unknown as number);
    }
  }

  #remove(conn: Http1Conn): void {
    const list = this.#idle.get(conn.addr);
    if (list === undefined) return;
    const i = list.indexOf(conn);
    if (i < 0) return;
    list.splice(i, 1);
    this.#count--;
    if (list.length === 0) this.#idle.delete(conn.addr);
  }

  #sweepExpired(): void {
    const oldest = Date.now() - this.#idleTimeout;
    for (const [addr, list] of this.#idle) {
      // Parked while a body piece was still lent and not given back since: watch now (in a new buffer).
      for (const conn of list) conn.watch();
      // Oldest first: stop at the first connection still young enough.
      let n = 0;
      while (n < list.length && list[n]!.idleSince <= oldest) n++;
      if (n === 0) continue;
      const expired = list.splice(0, n);
      this.#count -= n;
      for (const conn of expired) {
        conn.unpark();
        conn.close();
      }
      if (list.length === 0) this.#idle.delete(addr);
    }
    if (this.#count === 0) this.#stopSweeper();
  }

  #stopSweeper(): void {
    if (this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /**
   * Closes the idle connections of addresses not in `keep`.
   *
   * @param keep Addresses still in use.
   */
  prune(keep: ReadonlySet<string>): void {
    for (const [addr, list] of this.#idle) {
      if (keep.has(addr)) continue;
      this.#idle.delete(addr);
      this.#count -= list.length;
      for (const conn of list) {
        conn.unpark();
        conn.close();
      }
    }
    if (this.#count === 0) this.#stopSweeper();
  }

  /** Closes every idle connection and stops the sweeper. */
  close(): void {
    this.prune(new Set());
    this.#stopSweeper();
  }
}
