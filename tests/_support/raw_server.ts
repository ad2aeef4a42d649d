/**
 * A raw TCP server on 127.0.0.1 and a free port, for test origins that speak bytes themselves: it accepts, hands
 * each connection to a handler with its accept index, closes it when the handler ends (a throw included), and on
 * `close()` stops accepting, closes every open connection and waits for the handlers.
 *
 * @module
 */

/** A running raw server. */
export interface RawServer {
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections open now. */
  open(): number;
  close(): Promise<void>;
}

/** Starts one; `handler` drives each accepted connection (0, 1, … in accept order). */
export function startRawServer(handler: (conn: Deno.TcpConn, index: number) => Promise<void>): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  const tasks = new Set<Promise<void>>();
  let accepted = 0;
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const task = handler(conn, accepted++).catch(() => {}).finally(() => {
          conns.delete(conn);
          tasks.delete(task);
          try {
            conn.close();
          } catch {
            // Closed by the handler.
          }
        });
        tasks.add(task);
      }
    } catch {
      // Listener closed.
    }
  })();
  const port = listener.addr.port;
  return {
    port,
    addr: `127.0.0.1:${port}`,
    accepted: () => accepted,
    open: () => conns.size,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by the peer.
        }
      }
      await loop;
      await Promise.allSettled([...tasks]);
    },
  };
}
