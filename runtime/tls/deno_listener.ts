/**
 * The `deno-tls` engine (runtime/tls/engine_choice.ts says which servers it serves): `Deno.listenTls` (rustls) on the
 * public address, the certificate of each handshake chosen by Deno's SNI resolver over the {@linkcode CertStore} (the
 * same choice as `node:tls`'s SNI callback: exact name, wildcard, default, `is_ca` leaves), and each decrypted
 * `Deno.TlsConn` handed as it is to the HTTP/1.1 engine, or, when ALPN chose `h2`, to the HTTP/2 engine. No socket
 * wrapper, no loopback hop: measured 1.3–2× cheaper per small request than `node:tls` (bench/README.md).
 *
 * When one certificate serves every name (the store's only one, and the default), it is given to `Deno.listenTls` as
 * it is, without the resolver: Deno then builds its TLS configuration once instead of at each handshake (its resolver
 * path makes a new rustls `ServerConfig` per handshake, which halves the handshakes a second and leaves no session to
 * resume).
 *
 * Deno's resolver keeps each name's certificate for the life of its listener (Deno 2.9.6 has no way to forget one).
 * So when the store changes what some name is served (a reload with other certificate material, an ACME certificate
 * put at run time), the listener opens a new `Deno.listenTls` on the same port (`reusePort`) and then closes the old
 * one: connections it accepted go on (a handshake under way still gets the old certificate); connections that reached
 * the old socket's accept queue but were not accepted yet when it closed are reset by the kernel (Linux does not move
 * them to the other socket of the port); the accept loop takes each one as it comes, so that window is short. For the
 * same reason it reopens after {@linkcode MAX_NAMES} distinct names, so that clients sending made-up SNI names cannot
 * grow the cache without bound, and once a leaf that an `is_ca` certificate minted for it has expired (looked at each
 * minute), so that the minter makes a new one.
 *
 * What a `Deno.TlsConn` does not tell: the TLS version, the cipher and the SNI name of the connection. Its
 * {@linkcode TlsFacts} carry them as "" (the engine is not chosen for a server whose access log prints
 * `{:tls_version}` or `{:tls_cipher}`); `handshakeMs` is from the accept to the end of the handshake.
 *
 * @module
 */
import type { TlsFacts } from "../http/message.ts";
import type { ByteStream } from "../listen/byte_stream.ts";
import type { CertStore } from "./store.ts";
import { HANDSHAKE_TIMEOUT, type TlsClient } from "./listener.ts";
import { log } from "../observe/log/app_log.ts";
import { handshakeCutter, listenerNoDelay } from "./raw_socket.ts";

/** Distinct SNI names resolved by one socket before it is reopened with an empty cache. */
export const MAX_NAMES = 4096;

/** How often (ms) the end of the minted leaves a socket cached is looked at. */
const EXPIRY_CHECK = 60_000;

/** The SNI resolver option of `Deno.listenTls` (Deno 2.9, internal: `Symbol.for("unstableSniResolver")`). */
const SNI_RESOLVER = Symbol.for("unstableSniResolver");

/** Options of {@linkcode listenDenoTls}. */
export interface DenoTlsOptions {
  /** The address to listen on. */
  readonly hostname: string;
  /** Its port (0: any; a reopen takes the same one). */
  readonly port: number;
  /** Offer `h2` by ALPN (and `http/1.1`). */
  readonly h2: boolean;
  /** The certificates, watched: a change of what it serves reopens the socket. */
  readonly store: CertStore;
  /** Serves a decrypted connection (ALPN `http/1.1` or none): the HTTP/1.1 engine; the stream's `tls` is set. */
  readonly serve: (conn: ByteStream) => void;
  /** Serves a decrypted connection whose ALPN chose `h2`: the HTTP/2 engine. */
  readonly serveH2?: ((conn: ByteStream, client: TlsClient) => void) | undefined;
  /** A handshake finished, in `ms` (for `pingap_tls_handshake_time`). */
  readonly onHandshake?: (ms: number) => void;
  /** Time (ms) a client has to finish its handshake, from the accept. Default {@linkcode HANDSHAKE_TIMEOUT}. */
  readonly handshakeTimeout?: number;
  /** A new socket took the address (a certificate changed): for the options set on the listening socket. */
  readonly onReopen?: (addr: Deno.NetAddr) => void;
  /** Distinct names before a reopen (default {@linkcode MAX_NAMES}; for tests). */
  readonly maxNames?: number;
}

/** A running `deno-tls` listener. */
export interface DenoTlsListener {
  /** The public address. */
  readonly addr: Deno.NetAddr;
  /** How many times a new socket replaced the first one (for tests and logs). */
  readonly reopened: number;
  /** Settles once the sockets opened so far for certificate changes are bound and the old ones closed. */
  settled(): Promise<void>;
  /** Stops accepting; open connections go on. */
  close(): void;
  /** Cuts every connection still in its handshake (the engines close the others). */
  destroy(): void;
}

/** Starts a `deno-tls` listener (bound when it returns; throws what `Deno.listenTls` throws). */
export function listenDenoTls(o: DenoTlsOptions): DenoTlsListener {
  const timeout = o.handshakeTimeout ?? HANDSHAKE_TIMEOUT;
  const maxNames = o.maxNames ?? MAX_NAMES;
  // http/1.0 too: a client offering only it (curl --http1.0) would otherwise get no_application_protocol.
  const alpnProtocols = o.h2 ? ["h2", "http/1.1", "http/1.0"] : ["http/1.1", "http/1.0"];
  const handshaking = new Set<Deno.TlsConn>();
  const cut = handshakeCutter();
  let closed = false;
  let reopened = 0;

  const open = (port: number): Deno.TlsListener => {
    let seen = 0;
    const resolve = async (servername: string) => {
      // Called once per name per socket (Deno caches the answer): count them, reopen past the bound.
      if (++seen > maxNames && socket === current) stale();
      const pem = await o.store.pem(servername || undefined);
      if (pem === undefined) throw new Error(`no certificate for "${servername}"`);
      if (pem.notAfter !== undefined && socket === current) expiry = Math.min(expiry, pem.notAfter);
      return { cert: pem.cert, key: pem.key };
    };
    // One certificate for every name: given as it is (Deno then builds its TLS config once, not per handshake as
    // with the resolver: twice the handshakes, bench/README.md). Else the resolver asks the store per name.
    const sole = o.store.soleDefault();
    const socket: Deno.TlsListener = Deno.listenTls(
      {
        hostname: o.hostname,
        port,
        reusePort: true,
        alpnProtocols,
        ...(sole ?? { [SNI_RESOLVER]: resolve }),
      } as unknown as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
    );
    listenerNoDelay((socket.addr as Deno.NetAddr).port);
    return socket;
  };

  const start = (conn: Deno.TlsConn) => {
    const t0 = performance.now();
    handshaking.add(conn);
    // `close()` alone does not end a handshake under way (runtime/tl./raw_socket.ts): the socket is shut down.
    const timer = setTimeout(() => {
      if (!handshaking.has(conn)) return;
      cut({ localPort: (conn.localAddr as Deno.NetAddr).port, remote: conn.remoteAddr });
      closeConn(conn);
    }, timeout);
    conn.handshake().then(({ alpnProtocol }) => {
      clearTimeout(timer);
      handshaking.delete(conn);
      const handshakeMs = performance.now() - t0;
      o.onHandshake?.(handshakeMs);
      const tls: TlsFacts = { version: "", cipher: "", servername: "", handshakeMs };
      // The engines read a stream's TLS facts from its `tls`; set on the connection itself, no wrapper per read.
      Object.defineProperty(conn, "tls", { value: tls });
      try {
        if (alpnProtocol === "h2" && o.serveH2 !== undefined) {
          const peer = conn.remoteAddr;
          o.serveH2(conn, { hostname: peer.hostname, port: peer.port, servername: "", tls });
        } else o.serve(conn);
      } catch (e) {
        log.error("TLS connection could not be served", { error: e instanceof Error ? e.message : String(e) });
        closeConn(conn);
      }
    }, () => {
      clearTimeout(timer);
      handshaking.delete(conn);
      closeConn(conn);
    });
  };

  const accept = async (socket: Deno.TlsListener) => {
    for (;;) {
      let conn: Deno.TlsConn;
      try {
        conn = await socket.accept();
      } catch (e) {
        if (closed || socket !== current || e instanceof Deno.errors.BadResource) return;
        // Out of file descriptors and the like: wait a moment instead of spinning.
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      start(conn);
    }
  };

  /** The earliest end of a minted (`is_ca`) leaf the current socket cached: past it, a new socket mints anew. */
  let expiry = Infinity;
  const expired = setInterval(() => {
    if (Date.now() > expiry) stale();
  }, EXPIRY_CHECK);
  Deno.unrefTimer(expired);
  let current = open(o.port);
  const addr = current.addr as Deno.NetAddr;
  void accept(current);

  /** Replaces the socket with a new one (empty certificate cache), once per burst of changes. */
  let pending: Promise<void> | undefined;
  let chain = Promise.resolve();
  const stale = () => {
    if (closed || pending !== undefined) return;
    pending = chain = chain.then(async () => {
      // A burst of store changes (a reload puts every certificate in at once) makes one reopen.
      await Promise.resolve();
      pending = undefined;
      if (closed) return;
      const old = current;
      try {
        current = open(addr.port);
      } catch (e) {
        // The old socket serves on, with what it cached: say so, it is the one thing that keeps a stale certificate.
        log.error(`TLS listener ${addr.hostname}:${addr.port}: cannot open a new socket for a certificate change`, {
          reason: (e as Error).message,
        });
        return;
      }
      reopened++;
      expiry = Infinity;
      void accept(current);
      o.onReopen?.(addr);
      closeListener(old);
    }).catch((e) => {
      // The chain goes on: a later certificate change still reopens the socket.
      pending = undefined;
      log.error(`TLS listener ${addr.hostname}:${addr.port}: reopening failed`, { reason: String(e) });
    });
  };
  const unwatch = o.store.watch(stale);

  return {
    addr,
    get reopened() {
      return reopened;
    },
    settled: () => chain,
    close() {
      if (closed) return;
      closed = true;
      unwatch();
      clearInterval(expired);
      closeListener(current);
    },
    destroy() {
      // As at the handshake timeout: `close()` alone would wait for the handshake.
      for (const c of handshaking) {
        cut({ localPort: (c.localAddr as Deno.NetAddr).port, remote: c.remoteAddr });
        closeConn(c);
      }
      handshaking.clear();
    },
  };
}

function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

function closeListener(l: Deno.Listener): void {
  try {
    l.close();
  } catch { /* closed */ }
}
