/**
 * The way out of the fast path: a connection whose next request the front end does not serve itself is spliced, from
 * that request on, to a `Deno.serve` listener on loopback, which answers it and everything after it on that
 * connection. The loopback port the splice connects from maps back to the real client.
 *
 * @module
 */

/** The clients behind spliced connections, by the loopback port they reach `Deno.serve` from. */
export class RelayClients {
  readonly #byPort = new Map<number, Deno.NetAddr>();

  /** The client spliced from `port`. */
  get(port: number): Deno.NetAddr | undefined {
    return this.#byPort.get(port);
  }

  /** Records one. */
  set(port: number, client: Deno.NetAddr): void {
    this.#byPort.set(port, client);
  }

  /** Forgets one. */
  delete(port: number): void {
    this.#byPort.delete(port);
  }
}

/**
 * Copies `from` to `to` until `from` ends, then ends `to`'s writing side. A failure on either side (a reset, say
 * hyper closing with unread bytes) calls `cut`, which closes both: the peer then sees the end at once.
 */
async function pump(from: Deno.Conn, to: Deno.Conn, cut: () => void): Promise<void> {
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let w = 0;
      while (w < n) w += await to.write(buf.subarray(w, n));
    }
    await to.closeWrite();
  } catch {
    cut();
  }
}

/**
 * Splices `client` to `target`, first sending `initial` (the bytes already read). Resolves when both directions
 * ended; closes both connections.
 */
export async function splice(
  client: Deno.Conn,
  initial: Uint8Array,
  target: Deno.NetAddr,
  clients: RelayClients,
): Promise<void> {
  let inner: Deno.TcpConn | undefined;
  let port = 0;
  try {
    inner = await Deno.connect({ hostname: target.hostname, port: target.port });
    inner.setNoDelay(true);
    port = (inner.localAddr as Deno.NetAddr).port;
    clients.set(port, client.remoteAddr as Deno.NetAddr);
    let w = 0;
    while (w < initial.byteLength) w += await inner.write(initial.subarray(w));
    const up = inner;
    let cut = false;
    const cutBoth = () => {
      if (cut) return;
      cut = true;
      closeQuietly(up);
      closeQuietly(client);
    };
    // Once Deno.serve has ended its side, the client's is over too (a client that keeps it half-open would otherwise
    // hold the splice, and a shutdown, forever).
    await Promise.all([pump(client, up, cutBoth), pump(up, client, cutBoth).then(cutBoth)]);
  } catch {
    // The loopback listener is gone (shutting down) or the client left.
  } finally {
    if (port) clients.delete(port);
    closeQuietly(inner);
    closeQuietly(client);
  }
}

function closeQuietly(c: Deno.Conn | undefined): void {
  try {
    c?.close();
  } catch { /* closed */ }
}
