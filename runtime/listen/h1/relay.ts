/**
 * The way out of the fast path: a connection whose next request the front end does not serve itself is spliced, from
 * that request on, to a `Deno.serve` listener on loopback, which answers it and everything after it on that
 * connection. The loopback port the splice connects from maps back to the real client.
 *
 * @module
 */
import { BAD, ChunkedScanner } from "./chunked_scan.ts";
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

/** What a pump may be told to do with the bytes it read before it sends them on. */
interface PumpHooks {
  /** False when the bytes must not go on (bad framing): the pump stops and calls {@linkcode refuse}. */
  check?(buf: Uint8Array, n: number): boolean;
  /** Answers bad framing. */
  refuse?(): Promise<void>;
  /** False when the bytes must not go on because the other side answered already: the pump stops. */
  mayWrite?(n: number): boolean;
}

/**
 * Copies `from` to `to` until `from` ends, then ends `to`'s writing side. A failure on either side (a reset, say
 * hyper closing with unread bytes) calls `cut`, which closes both: the peer then sees the end at once.
 */
async function pump(
  from: ByteStream,
  to: ByteStream,
  cut: () => void,
  activity?: RelayActivity,
  hooks?: PumpHooks,
): Promise<void> {
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      activity?.touch();
      if (hooks?.check && !hooks.check(buf, n)) return await hooks.refuse!();
      if (hooks?.mayWrite && !hooks.mayWrite(n)) return;
      let w = 0;
      while (w < n) w += await to.write(buf.subarray(w, n));
    }
    await to.closeWrite();
  } catch {
    cut();
  }
}

/** The answer to a chunked body with bad framing (hyper would close without one). */
const BAD_FRAMING = new TextEncoder().encode(
  "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nconnection: close\r\n\r\nBad Request\n",
);
/** Time a client that was answered 400 has to stop sending before its connection is closed (nginx's lingering_timeout). */
const LINGER = 5000;

/** Writes the 400 for bad framing, closes the write side, and drops what the client still sends (at most LINGER). */
async function refuseFraming(client: ByteStream): Promise<void> {
  try {
    let w = 0;
    while (w < BAD_FRAMING.byteLength) w += await client.write(BAD_FRAMING.subarray(w));
    await client.closeWrite();
    const timer = setTimeout(() => closeQuietly(client), LINGER);
    const sink = new Uint8Array(16384);
    try {
      while (await client.read(sink) !== null) { /* dropped */ }
    } finally {
      clearTimeout(timer);
    }
  } catch {
    // The client left.
  }
}

/**
 * Splices `client` to `target`, first sending `initial` (the bytes already read). Resolves when both directions
 * ended; closes both connections. `activity` follows what moves (for the caller's idle sweep). With `chunkedAt`, the
 * chunked body that starts at `initial[chunkedAt]` is scanned as it passes: bad framing is not sent on, and is answered
 * 400 when `Deno.serve` has not begun its answer (else the connection is cut). `remote` is the client `Deno.serve`'s
 * handler is told of (default: the peer of `client`; a PROXY header may have named another).
 */
export async function splice(
  client: ByteStream,
  initial: Uint8Array,
  target: Deno.NetAddr,
  clients: RelayClients,
  activity?: RelayActivity,
  chunkedAt?: number,
  remote?: Deno.NetAddr,
): Promise<void> {
  const scanner = chunkedAt === undefined ? undefined : new ChunkedScanner();
  if (scanner) {
    const r = scanner.scan(initial, chunkedAt!, initial.byteLength);
    if (r === BAD) {
      // Nothing was sent to Deno.serve yet.
      await refuseFraming(client);
      closeQuietly(client);
      return;
    }
  }
  let inner: Deno.TcpConn | undefined;
  let port = 0;
  try {
    inner = await Deno.connect({ hostname: target.hostname, port: target.port });
    inner.setNoDelay(true);
    port = (inner.localAddr as Deno.NetAddr).port;
    clients.set(port, { addr: remote ?? client.remoteAddr as Deno.NetAddr, activity });
    let w = 0;
    while (w < initial.byteLength) w += await inner.write(initial.subarray(w));
    const up = inner;
    let cut = false;
    /** Bytes of Deno.serve's answer sent on (or being sent) to the client. */
    let answered = 0;
    /** The front end answers the client itself (bad framing): nothing more from Deno.serve goes to it. */
    let refusing = false;
    const cutBoth = () => {
      if (cut || refusing) return;
      cut = true;
      closeQuietly(up);
      closeQuietly(client);
    };
    const refuse = async () => {
      if (answered > 0) return cutBoth();
      refusing = true;
      closeQuietly(up);
      await refuseFraming(client);
    };
    const upHooks: PumpHooks | undefined = scanner === undefined ? undefined : {
      check: (buf, n) => scanner.done || scanner.scan(buf, 0, n) !== BAD,
      refuse,
    };
    const downHooks: PumpHooks = {
      mayWrite: (n) => {
        if (refusing) return false;
        answered += n;
        return true;
      },
    };
    // Once Deno.serve has ended its side, the client's is over too (a client that keeps it half-open would otherwise
    // hold the splice, and a shutdown, forever).
    await Promise.all([
      pump(client, up, cutBoth, activity, upHooks),
      pump(up, client, cutBoth, activity, downHooks).then(cutBoth),
    ]);
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
