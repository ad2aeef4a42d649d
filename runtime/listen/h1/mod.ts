/**
 * The HTTP/1.1 front end for plain-HTTP listeners: `Deno.listen`, a strict request-head parser and a response
 * writer, with no `Request`/`Response` round trip through `Deno.serve` on the common path. Measured here: a proxied
 * small response costs ~20 µs less CPU than through `Deno.serve` (bench/README.md). A head the strict parser does not
 * take is screened (screen.ts) and then served here too — HTTP/1.0, chunked and `Expect: 100-continue` uploads,
 * absolute-form targets, bare-LF line ends, obs-text, upgrades (spliced as bytes after the upstream's 101) — or
 * answered 400 when malformed. HTTP/2 (the h2c preface, `Upgrade: h2c`) goes to the HTTP/2 engine on an `enabled_h2`
 * server; on a server without it the h2c preface is answered 400 (as nginx and Pingora answer `PRI * HTTP/2.0` on an
 * HTTP/1 port) and `Upgrade: h2c` is served as HTTP/1.1. Every connection is served in process: no loopback hop.
 *
 * @example Usage
 * ```ts ignore
 * import { listenH1 } from "./mod.ts";
 * import { responseWith } from "../../http/response_build.ts";
 *
 * const l = await listenH1(
 *   { hostname: "127.0.0.1", port: 0 },
 *   (req) => Promise.resolve(responseWith(`hello ${req.url}`, {})),
 * );
 * await l.shutdown();
 * ```
 *
 * @module
 */
import { Connection, type ConnectionHost, MAX_HEAD_SIZE, type WireHandler } from "./connection.ts";
import type { ByteStream } from "../byte_stream.ts";

export type { WireHandler } from "./connection.ts";
export { WireRequest } from "./request.ts";

/** Time a connection accepted just before a shutdown has to send its first request (ms). */
const FRESH_GRACE = 1000;

/** Where and how to listen. */
export interface H1ListenOptions {
  readonly hostname: string;
  readonly port: number;
  /** SO_REUSEPORT (several workers on one port). */
  readonly reusePort?: boolean;
  /**
   * Accept connections on `hostname:port` (default). False: no socket of its own; connections come only through
   * {@linkcode H1Listener.serve} (decrypted by a TLS listener in process), and `addr` is `hostname:port` as given.
   */
  readonly accept?: boolean;
  /**
   * Time (ms) a connection may take to send its next request head, keep-alive wait included, and time one read of a
   * request body may wait; past it the connection is closed. Default 60 s (`downstream_read_timeout`). Checked once a
   * second.
   */
  readonly idleTimeout?: number;
  /** Time (ms) one write to the client may take before the connection is cut (`downstream_write_timeout`). */
  readonly writeTimeout?: number;
  /**
   * Lingering close (see {@linkcode Connection}): time (ms) without a byte from the client after which it ends, and
   * time (ms) it may last in all. Defaults 5 s and 30 s, nginx's `lingering_timeout` and `lingering_time`. Checked
   * once a second.
   */
  readonly linger?: { readonly quiet: number; readonly total: number };
  /**
   * Must a connection from this peer IP start with a PROXY protocol header (v1 or v2)? Asked once per connection.
   * Its source is then the client of every request on it; a missing or malformed header closes the connection.
   */
  readonly proxyFrom?: (peer: string) => boolean;
  /**
   * `h1_pipelining`: are requests pipelined behind another (sent before its answer) served in order? Asked only when a
   * request came with bytes behind it. False: that request is answered with `connection: close` and the connection
   * closed (lingering), the requests behind it dropped unanswered, as Pingora does. Default: served.
   */
  readonly pipelining?: () => boolean;
  /**
   * Largest request head in bytes, request line included (default 64 KiB): a larger one is answered 431, or 414 when
   * its request line alone fills it.
   */
  readonly maxHeadSize?: number;
  /**
   * Terminate TLS in process with this one certificate (`Deno.listenTls`, ALPN `http/1.1`): the engine reads the
   * decrypted stream as it reads a TCP one. One certificate only, no SNI choice: for measurements (bench/tls_engines.ts)
   * until an SNI-capable in-process TLS engine serves `global_certificates` servers.
   */
  readonly tls?: { readonly cert: string; readonly key: string };
  /**
   * Takes an h2c connection (prior knowledge) in process, from its preface on (`enabled_h2`: the HTTP/2 engine,
   * runtime/listen/h2/engine.ts). Absent, the preface is answered 400 and the connection closed.
   */
  readonly h2?: (conn: ByteStream, initial: Uint8Array, remote: Deno.NetAddr) => Promise<void>;
  /**
   * Takes a cleartext connection upgraded on a request's `Upgrade: h2c` (after its 101; `enabled_h2`: the HTTP/2
   * engine's `serveUpgraded`). Absent, or over {@linkcode tls}, such a request is served as HTTP/1.1.
   */
  readonly h2Upgrade?: ConnectionHost["h2Upgrade"];
}

/** A running front end. */
export interface H1Listener {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Stops accepting; idle connections close at once, busy ones after their response. */
  shutdown(): Promise<void>;
  /**
   * Serves a connection accepted elsewhere (a `node:tls` socket as a `NodeSocketStream`: decrypted bytes, in process),
   * with this listener's limits and sweep.
   */
  serve(stream: ByteStream): void;
}

/**
 * Listens for HTTP/1.1.
 *
 * @param options Address and limits.
 * @param handler Answers the requests.
 * @returns The listener once bound.
 */
export function listenH1(options: H1ListenOptions, handler: WireHandler): Promise<H1Listener> {
  let listener: Deno.Listener<Deno.TcpConn | Deno.TlsConn> | undefined;
  try {
    listener = options.accept === false ? undefined : options.tls
      ? Deno.listenTls({
        hostname: options.hostname,
        port: options.port,
        cert: options.tls.cert,
        key: options.tls.key,
        alpnProtocols: ["http/1.1"],
      })
      : Deno.listen({
        hostname: options.hostname,
        port: options.port,
        ...(options.reusePort ? { reusePort: true } : {}),
      });
  } catch (e) {
    return Promise.reject(e);
  }
  const conns = new Set<Connection>();
  const host: ConnectionHost & { closing: boolean; tick: number } = {
    handler,
    ...(options.proxyFrom ? { proxyFrom: options.proxyFrom } : {}),
    ...(options.h2 ? { h2: options.h2 } : {}),
    // h2c is for cleartext only (RFC 7540 §3.2).
    ...(options.h2Upgrade && !options.tls ? { h2Upgrade: options.h2Upgrade } : {}),
    ...(options.pipelining ? { pipelining: options.pipelining } : {}),
    maxHeadSize: options.maxHeadSize ?? MAX_HEAD_SIZE,
    closing: false,
    tick: 0,
  };
  // Idle and stuck connections are closed by a sweep: one tick a second, no clock read per request.
  const ticks = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  const idleTicks = ticks(options.idleTimeout ?? 60_000);
  const writeTicks = options.writeTimeout === undefined ? Infinity : ticks(options.writeTimeout);
  const lingerQuiet = ticks(options.linger?.quiet ?? 5_000);
  const lingerTotal = ticks(options.linger?.total ?? 30_000);
  const sweep = setInterval(() => {
    const now = ++host.tick;
    for (const c of conns) {
      if (c.lingerTick >= 0) {
        if (now - c.idleTick > lingerQuiet || now - c.lingerTick > lingerTotal) c.close();
      } else if (
        c.idleTick >= 0
          ? now - c.idleTick > idleTicks
          : (c.writeTick >= 0 && now - c.writeTick > writeTicks) || (c.readTick >= 0 && now - c.readTick > idleTicks)
      ) {
        c.close();
      } else if (c.idleTick < 0) c.watchBusy();
    }
  }, 1000);
  Deno.unrefTimer(sweep);

  const serveStream = (stream: ByteStream) => {
    const conn = new Connection(stream, host);
    conns.add(conn);
    conn.serve().finally(() => conns.delete(conn));
  };
  const accepting = listener && (async (listener) => {
    for (;;) {
      let tcp: Deno.TcpConn | Deno.TlsConn;
      try {
        tcp = await listener.accept();
      } catch (e) {
        if (host.closing || e instanceof Deno.errors.BadResource) return;
        // Out of file descriptors and the like: wait a moment instead of spinning.
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      serveStream(tcp);
    }
  })(listener);

  return Promise.resolve({
    addr: (listener?.addr as Deno.NetAddr | undefined) ??
      { transport: "tcp", hostname: options.hostname, port: options.port },
    serve: serveStream,
    async shutdown() {
      host.closing = true;
      try {
        listener?.close();
      } catch { /* closed */ }
      await accepting;
      // Idle kept-alive connections close now. A connection accepted just before the listener closed may not have
      // sent its request yet (a client that opens one per request, during an upgrade): it gets FRESH_GRACE to send
      // it, and the answer carries `connection: close`, instead of a reset.
      const fresh: Connection[] = [];
      for (const c of conns) {
        if (c.idleTick < 0) continue;
        if (c.served > 0) c.close();
        else fresh.push(c);
      }
      const late = fresh.length === 0 ? undefined : setTimeout(() => {
        for (const c of fresh) if (c.idleTick >= 0) c.close();
      }, FRESH_GRACE);
      const drained = (async () => {
        while (conns.size > 0) await new Promise((r) => setTimeout(r, 20));
      })();
      // The sweep goes on while they finish: a client that stops reading is still cut after `writeTimeout`, and a
      // lingering close still ends.
      await drained;
      clearInterval(sweep);
      clearTimeout(late);
    },
  });
}
