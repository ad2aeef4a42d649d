/**
 * The way out of the HTTP/1.1 engine for h2c with prior knowledge (the HTTP/2 preface): the connection is spliced, from
 * the preface on, to a `Deno.serve` listener on loopback, which speaks h2c. The loopback port the splice connects from maps back to the real client.
 *
 * @module
 */
import type { ByteStream } from "../byte_stream.ts";

/**
 * What moves on a spliced connection, for the listener's idle sweep: a relay is cut when nothing moved either way for
 * the idle timeout while `Deno.serve` waits on the client (for a head, or a body being read), never while a request
 * waits on its response.
 */
export class RelayActivity {
  /** The clock's tick when a byte last moved. */
  tick: number;
  /** Requests of this connection in the handler now. */
  busy = 0;
  /** Of those, the ones whose body is still being read. */
  reading = 0;

  /** @param clock A coarse clock (the listener's sweeps so far). */
  constructor(readonly clock: { readonly tick: number }) {
    this.tick = clock.tick;
  }

  /** A byte moved. */
  readonly touch = (): void => {
    this.tick = this.clock.tick;
  };

  /** Is `Deno.serve` waiting on the client (no request in the handler, or one reading its body)? */
  get waitsOnClient(): boolean {
    return this.busy === 0 || this.reading > 0;
  }
}

/** A spliced client. */
export interface RelayClient {
  readonly addr: Deno.NetAddr;
  readonly activity: RelayActivity | undefined;
}

/** The clients behind spliced connections, by the loopback port they reach `Deno.serve` from. */
export class RelayClients {
  readonly #byPort = new Map<number, RelayClient>();

  /** The client spliced from `port`. */
  get(port: number): RelayClient | undefined {
    return this.#byPort.get(port);
  }

  /** Records one. */
  set(port: number, client: RelayClient): void {
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
async function pump(from: ByteStream, to: ByteStream, cut: () => void, activity: RelayActivity): Promise<void> {
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      activity.touch();
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
 * ended; closes both connections. `activity` follows what moves (for the caller's idle sweep). `remote` is the client
 * `Deno.serve`'s handler is told of (the peer of `client`, or the source a PROXY header named).
 */
export async function splice(
  client: ByteStream,
  initial: Uint8Array,
  target: Deno.NetAddr,
  clients: RelayClients,
  activity: RelayActivity,
  remote: Deno.NetAddr,
): Promise<void> {
  let inner: Deno.TcpConn | undefined;
  let port = 0;
  try {
    inner = await Deno.connect({ hostname: target.hostname, port: target.port });
    inner.setNoDelay(true);
    port = (inner.localAddr as Deno.NetAddr).port;
    clients.set(port, { addr: remote, activity });
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
    await Promise.all([pump(client, up, cutBoth, activity), pump(up, client, cutBoth, activity).then(cutBoth)]);
  } catch {
    // The loopback listener is gone (shutting down) or the client left.
  } finally {
    if (port) clients.delete(port);
    closeQuietly(inner);
    closeQuietly(client);
  }
}

function closeQuietly(c: ByteStream | undefined): void {
  try {
    c?.close();
  } catch { /* closed */ }
}
