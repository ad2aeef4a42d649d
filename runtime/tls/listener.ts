/**
 * The TLS listener: a `node:tls` server on the public address terminates
 * TLS, picking the certificate in the {@linkcode CertStore} at each handshake
 * (`SNICallback`), with the server's TLS versions and ALPN (`h2` when
 * `enabled_h2`), and hands each decrypted socket to the server's engines in
 * process: ALPN `h2` to the HTTP/2 engine ({@linkcode TlsListenOptions.inProcessH2}),
 * anything else to the HTTP/1.1 engine ({@linkcode TlsListenOptions.inProcess}).
 * Without them (`PINGAP_HTTP1=deno-serve`) it pipes the bytes to a plain
 * `Deno.serve` bound on loopback, which sees each connection from 127.0.0.1
 * and a port: that port maps to the client ({@linkcode TlsListener.client}).
 *
 * It serves the servers the `deno-tls` engine cannot (runtime/tls/engine_choice.ts: client certificates, PROXY
 * protocol, JA4, TLS version limits, `{:tls_version}`/`{:tls_cipher}`); figures in docs/tls.md and bench/README.md.
 *
 * @module
 */
import { createConnection, createServer as createNetServer, type Socket } from "node:net";
import { createServer, type PeerCertificate, type SecureVersion, type Server, type TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import type { CertStore } from "./store.ts";
import { parseProxyHeader, PROXY_INCOMPLETE } from "../listen/h1/proxy_header.ts";
import { HELLO_INCOMPLETE, MAX_HELLO_BYTES, readClientHello } from "./client_hello.ts";
import { type Ja4, ja4Of } from "./ja4.ts";
import { log } from "../observe/log/app_log.ts";
import type { TlsFacts } from "../http/message.ts";

/** TLS versions as the config spells them. */
export type TlsVersionName = "tlsv1.1" | "tlsv1.2" | "tlsv1.3";

/** Client certificates asked for (`tls_client_ca`, `tls_client_auth`). */
export interface ClientAuth {
  /** `require`: no certificate, no handshake; `optional`: a client may show none. A bad one is refused either way. */
  readonly mode: "require" | "optional";
  /** The server whose CA ({@linkcode CertStore.clientCa}) checks the certificates. */
  readonly server: string;
}

/** Options of {@linkcode listenTls}. */
export interface TlsListenOptions {
  readonly hostname: string;
  readonly port: number;
  readonly reusePort?: boolean;
  readonly minVersion?: TlsVersionName | undefined;
  readonly maxVersion?: TlsVersionName | undefined;
  /** Offer `h2` by ALPN (and `http/1.1`). */
  readonly h2: boolean;
  readonly store: CertStore;
  /**
   * The plain listener on loopback that serves the decrypted connections no in-process engine takes
   * (`PINGAP_HTTP1=deno-serve`, for comparisons). Absent, such a connection is closed.
   */
  readonly target?: Deno.NetAddr;
  /** A handshake finished, in `ms` (for `pingap_tls_handshake_time`). */
  readonly onHandshake?: (ms: number) => void;
  /**
   * Time (ms) a client has to finish its handshake, from the TCP accept; past it the connection is closed. Default
   * {@linkcode HANDSHAKE_TIMEOUT}.
   */
  readonly handshakeTimeout?: number;
  /**
   * `proxy_protocol`: must a connection from this peer IP start with a PROXY protocol header (v1 or v2), before the
   * handshake? Its source is then the client ({@linkcode TlsListener.client}); a missing or malformed header closes
   * the connection (WARN). Given, a plain TCP listener accepts and hands each connection to the TLS server; absent,
   * the TLS server listens itself.
   */
  readonly proxyFrom?: (peer: string) => boolean;
  /**
   * `ja4`: read each connection's ClientHello (after its PROXY header, if any) off the raw socket before the TLS server
   * sees it, and keep its JA4 fingerprint in the connection's TLS facts. The bytes go to the TLS server unchanged; a
   * hello that cannot be read (not TLS, malformed, over 16 KiB) gets no fingerprint and the handshake goes on (or
   * fails) as without.
   */
  readonly ja4?: boolean;
  /**
   * Serves a decrypted HTTP/1.1 connection (ALPN `http/1.1` or none) in process instead of relaying it over loopback to
   * {@linkcode target}: given the socket and its client (the PROXY header's source, when one was read). h2 by ALPN is
   * still relayed unless {@linkcode inProcessH2} takes it.
   */
  readonly inProcess?: (socket: TLSSocket, client: TlsClient) => void;
  /** Serves a decrypted connection whose ALPN chose `h2` in process (the HTTP/2 engine), instead of relaying it. */
  readonly inProcessH2?: (socket: TLSSocket, client: TlsClient) => void;
  /** Ask clients for a certificate, checked against the server's CA in {@linkcode store}. */
  readonly clientAuth?: ClientAuth | undefined;
}

/** Default time a TLS handshake may take (node's own default is 120 s; a half-done handshake was held 185 s). */
export const HANDSHAKE_TIMEOUT = 10_000;

/** The client behind a decrypted connection. */
export interface TlsClient {
  readonly hostname: string;
  readonly port: number;
  /** SNI sent, or "" when none. */
  readonly servername: string;
  /** The connection's TLS facts. */
  readonly tls: TlsFacts;
}

/** A running TLS listener. */
export interface TlsListener {
  /** The public address. */
  readonly addr: Deno.NetAddr;
  /** The client whose connection reached the plain listener from `port` (on 127.0.0.1). */
  client(port: number): TlsClient | undefined;
  /** Stops accepting; open connections go on. */
  close(): void;
  /** Cuts every connection still open. */
  destroy(): void;
}

/** `node:tls` version of a config value; TLS 1.1 is not available (rustls), so it means 1.2. */
export function secureVersion(v: TlsVersionName | undefined): SecureVersion | undefined {
  return v === undefined ? undefined : v === "tlsv1.3" ? "TLSv1.3" : "TLSv1.2";
}

/**
 * The certificate a client showed, as the `tls_client_*` facts; `{}` when it showed none, null when it showed one that
 * does not verify against the CA.
 */
function clientCertificate(down: TLSSocket): Partial<TlsFacts> | null {
  const cert = down.getPeerCertificate(false) as Partial<PeerCertificate> | null | undefined;
  if (!cert?.raw) return {};
  if (!down.authorized) return null;
  const x509 = new X509Certificate(cert.raw);
  return {
    // Pingap's form: the parts in the certificate's order, `O=Example, CN=device-42`.
    clientSubject: x509.subject.split("\n").join(", "),
    clientFingerprint: x509.fingerprint256.replaceAll(":", "").toLowerCase(),
    clientSerial: x509.serialNumber.toLowerCase(),
    clientVerified: true,
  };
}

/**
 * Copies `from` to `to` with backpressure, and ends `to` when `from` ends.
 * (`from.pipe(to)` in Deno 2.9 served fewer requests: medians of ten interleaved
 * wrk runs of the bare listener, 15.0k against 18.7k req/s, with much spread.)
 */
function forward(from: Socket, to: Socket): void {
  const resume = () => from.resume();
  from.on("data", (chunk: Uint8Array) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", resume);
    }
  });
  from.once("end", () => to.end());
}

/** Starts a TLS listener; resolves once bound. */
export function listenTls(options: TlsListenOptions): Promise<TlsListener> {
  const clients = new Map<number, TlsClient>();
  const open = new Set<Socket>();
  const minVersion = secureVersion(options.minVersion), maxVersion = secureVersion(options.maxVersion);
  const versions = { minVersion, maxVersion };
  const started = new WeakMap<Socket, number>();
  const clientAuth = options.clientAuth;
  const server: Server = createServer({
    ...(minVersion ? { minVersion } : {}),
    ...(maxVersion ? { maxVersion } : {}),
    // http/1.0 too: a client offering only it (curl --http1.0) would otherwise get no_application_protocol.
    ALPNProtocols: options.h2 ? ["h2", "http/1.1", "http/1.0"] : ["http/1.1", "http/1.0"],
    // The CA is in the context the SNI callback gives (node:tls checks against the context's `ca`); whether a client
    // without a certificate is let in is the server's (`rejectUnauthorized`).
    ...(clientAuth ? { requestCert: true, rejectUnauthorized: clientAuth.mode === "require" } : {}),
    SNICallback(servername, cb) {
      const ca = clientAuth ? options.store.clientCa(clientAuth.server) : undefined;
      options.store.context(servername, versions, ca).then(
        (ctx) => ctx ? cb(null, ctx) : cb(new Error(`no certificate for "${servername}"`)),
        (e) => cb(e as Error),
      );
    },
  }, (tlsSocket: TLSSocket) => relay(tlsSocket));
  // node's `handshakeTimeout` does nothing in Deno 2.9: the handshake gets its own timer, from the accept.
  const handshakeTimeout = options.handshakeTimeout ?? HANDSHAKE_TIMEOUT;
  const deadlines = new WeakMap<Socket, ReturnType<typeof setTimeout>>();
  /** Starts the handshake's time and deadline, from the TCP accept. */
  const accepted = (raw: Socket, onTimeout: () => void = () => void raw.destroy()) => {
    started.set(raw, performance.now());
    const timer = setTimeout(onTimeout, handshakeTimeout);
    deadlines.set(raw, timer);
    raw.once("close", () => clearTimeout(timer));
  };
  // A connection the front read bytes of (PROXY header, ClientHello) has its time and deadline from its accept.
  server.on("connection", (raw: Socket) => void (deadlines.has(raw) || accepted(raw)));
  server.on("tlsClientError", () => {});
  server.on("error", () => {});

  /** The client a PROXY header named, by raw socket. */
  const proxied = new WeakMap<Socket, { hostname: string; port: number }>();
  const relay = (down: TLSSocket) => {
    const raw = (down as unknown as { _parent?: Socket })._parent ?? down;
    clearTimeout(deadlines.get(raw));
    const client = clientAuth ? clientCertificate(down) : undefined;
    // `optional` lets in a client without a certificate, not one whose certificate does not verify (node:tls tells
    // only once the handshake is over: the connection is closed before a byte of it is read).
    if (client === null) return void down.destroy();
    const remote = proxied.get(raw) ?? { hostname: down.remoteAddress ?? "", port: down.remotePort ?? 0 };
    const t0 = started.get(raw);
    const handshakeMs = t0 === undefined ? 0 : performance.now() - t0;
    if (t0 !== undefined && options.onHandshake) options.onHandshake(handshakeMs);
    const sent = (down as TLSSocket & { servername?: string | false | null }).servername;
    const servername = typeof sent === "string" ? sent : "";
    const cipher = down.getCipher() as { name?: string; standardName?: string } | undefined;
    const ja4 = fingerprints?.get(raw);
    const tls: TlsFacts = {
      version: down.getProtocol() ?? "",
      cipher: cipher?.standardName ?? cipher?.name ?? "",
      servername,
      handshakeMs,
      ...client,
      ...(ja4 ? { ja4 } : {}),
    };
    down.pause();
    open.add(down);
    const inProcess = down.alpnProtocol === "h2" ? options.inProcessH2 : options.inProcess;
    if (inProcess !== undefined) {
      down.once("close", () => open.delete(down));
      inProcess(down, { ...remote, servername, tls });
      return;
    }
    const target = options.target;
    if (target === undefined) return void (open.delete(down), down.destroy());
    const up = createConnection({ host: target.hostname, port: target.port });
    up.setNoDelay(true);
    down.setNoDelay(true);
    let innerPort = 0;
    const done = () => {
      if (innerPort) clients.delete(innerPort);
      open.delete(down);
      down.destroy();
      up.destroy();
    };
    up.once("connect", () => {
      // Registered before any byte reaches the plain listener, so its handler always finds the client.
      innerPort = up.localPort ?? 0;
      clients.set(innerPort, { hostname: remote.hostname, port: remote.port, servername, tls });
      forward(down, up);
      forward(up, down);
      down.resume();
    });
    up.on("error", done);
    down.on("error", done);
    up.once("close", done);
    down.once("close", done);
  };

  const proxyFrom = options.proxyFrom;
  /** JA4 fingerprints by raw socket (`ja4`). */
  const fingerprints = options.ja4 ? new WeakMap<Socket, Ja4>() : undefined;
  /**
   * Reads what comes before the handshake off `raw` — the PROXY header (from a peer that must send one), then the
   * ClientHello (`ja4`) — and hands the socket to the TLS server with every byte after the header, within the
   * handshake's time.
   */
  const preRead = (raw: Socket) => {
    const ip = raw.remoteAddress ?? "";
    let header = proxyFrom !== undefined && proxyFrom(ip);
    if (!header && fingerprints === undefined) return void server.emit("connection", raw);
    const peer = `${ip}:${raw.remotePort ?? 0}`;
    const drop = (why: string) => {
      log.warn(`connection from ${peer} closed: ${why} (proxy_protocol)`);
      raw.destroy();
    };
    accepted(raw, () => header ? drop("no PROXY protocol header in time") : raw.destroy());
    let buf: Uint8Array = new Uint8Array(0);
    /** Where the TLS bytes start: after the PROXY header. */
    let tlsAt = 0;
    const handOver = () => {
      cleanup();
      raw.pause();
      if (tlsAt < buf.byteLength) raw.unshift(buf.subarray(tlsAt));
      server.emit("connection", raw);
    };
    const onData = (chunk: Uint8Array) => {
      if (buf.byteLength === 0) buf = chunk;
      else {
        const more = new Uint8Array(buf.byteLength + chunk.byteLength);
        more.set(buf);
        more.set(chunk, buf.byteLength);
        buf = more;
      }
      if (header) {
        const h = parseProxyHeader(buf, 0, buf.byteLength);
        if (h === PROXY_INCOMPLETE) return;
        if (typeof h === "string") return cleanup(), drop(h);
        if (h.addr !== undefined) proxied.set(raw, { hostname: h.addr.hostname, port: h.addr.port });
        header = false;
        tlsAt = h.size;
        if (fingerprints === undefined) return handOver();
      }
      const hello = readClientHello(buf, tlsAt);
      if (hello === HELLO_INCOMPLETE && buf.byteLength - tlsAt < MAX_HELLO_BYTES) return;
      if (typeof hello !== "string") {
        const fp = ja4Of(hello);
        if (fp !== undefined) fingerprints!.set(raw, fp);
      }
      handOver();
    };
    const onEnd = () => {
      cleanup();
      if (header) drop("it ended before its PROXY protocol header");
      else raw.destroy();
    };
    const cleanup = () => {
      raw.off("data", onData);
      raw.off("end", onEnd);
    };
    raw.on("data", onData);
    raw.once("end", onEnd);
    raw.on("error", () => {});
  };
  const front = proxyFrom === undefined && fingerprints === undefined
    ? undefined
    : createNetServer({ pauseOnConnect: false }, preRead);
  front?.on("error", () => {});
  const bound = front ?? server;

  return new Promise<TlsListener>((resolve, reject) => {
    bound.once("error", reject);
    bound.listen(
      { host: options.hostname, port: options.port, ...(options.reusePort ? { reusePort: true } : {}) },
      () => {
        bound.off("error", reject);
        const a = bound.address();
        if (a === null || typeof a === "string") {
          reject(new Error(`Cannot listen on ${options.hostname}:${options.port}: no address`));
          return;
        }
        resolve({
          addr: { transport: "tcp", hostname: a.address, port: a.port },
          client: (port) => clients.get(port),
          close: () => void bound.close(),
          destroy() {
            for (const s of open) s.destroy();
          },
        });
      },
    );
  });
}
