/**
 * Idle keep-alive connections for the RSS row: opens `count` connections
 * to a server, sends one small request on each and reads its answer, then
 * holds them open (idle, kept alive) until released.
 *
 * @module
 */

/** Connections held open. */
export interface HeldConnections {
  /** How many are open and answered. */
  readonly open: number;
  /** Closes them all. */
  release(): void;
}

const REQUEST = new TextEncoder().encode("GET /small HTTP/1.1\r\nHost: bench\r\n\r\n");

/** A connection that gets no answer within this is given up (a server past its connection limit queues it). */
const ANSWER_MS = 5000;

async function openOne(port: number): Promise<Deno.TcpConn | undefined> {
  let conn: Deno.TcpConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(REQUEST);
    const buf = new Uint8Array(4096);
    const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ANSWER_MS));
    // The small answer fits one read on loopback; what counts is that the server answered and kept the socket.
    const n = await Promise.race([conn.read(buf), late]);
    clearTimeout(timer);
    if (n === null) throw new Error("no answer");
    return conn;
  } catch {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed */ }
    return undefined;
  }
}

/**
 * Opens and holds keep-alive connections, `batch` at a time.
 *
 * @param port Server port on 127.0.0.1.
 * @param count Connections wanted.
 * @param batch Connections opened concurrently.
 * @returns The held connections.
 */
export async function holdConnections(port: number, count: number, batch = 200): Promise<HeldConnections> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i += batch) {
    const round = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => openOne(port)));
    for (const c of round) if (c) conns.push(c);
  }
  return {
    open: conns.length,
    release() {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      conns.length = 0;
    },
  };
}
