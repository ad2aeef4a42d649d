/**
 * The byte stream under an h2 upstream connection: h2c over `Deno.connect`, or TLS with ALPN `h2` over `node:tls`
 * (Deno's TLS API cannot skip certificate checks, `verify_cert = false`): SNI from `sni` (or the backend's host when
 * it is no IP address), the upstream's CA, a client certificate; the upstream's TCP options once connected. A backend
 * that does not pick `h2` fails the connect with {@linkcode NotH2} (with `h2h1`, client.ts then falls back to HTTP/1.1).
 *
 * @module
 */

import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { isIP } from "node:net";
import { type Backend, type ConnectOptions, UpstreamError } from "../types.ts";
import { setBackendSocketOptions, setNodeSocketOptions } from "../socket_options.ts";
import { type ByteStream, NodeSocketStream } from "../../listen/byte_stream.ts";

/** TLS material beyond {@linkcode ConnectOptions}. */
export interface TransportTls {
  /** PEM certificates trusted instead of the system roots. */
  readonly caCerts?: readonly string[] | undefined;
  /** Certificate presented to the backend (mutual TLS). */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  /** Offer `http/1.1` after `h2` in ALPN (`h2h1`). */
  readonly offerH1?: boolean | undefined;
}

/** The backend did not pick h2 in ALPN (with `h2h1`, the client then speaks HTTP/1.1 to it). */
export class NotH2 extends UpstreamError {
  /** Creates the error; `alpn` is what the backend picked ("" for none). */
  constructor(addr: string, readonly alpn: string) {
    super("connect", `Cannot connect to ${addr}: the backend did not choose h2 in ALPN (got ${alpn || "none"})`, false);
    this.name = "NotH2";
  }
}

/** An open byte stream and the TLS handshake's time, ms (0 without TLS). */
export interface Transport {
  readonly io: ByteStream;
  readonly tlsTime: number;
}

/**
 * Connects to `backend`; `signal` aborts (a time limit), `tcpDone` is called once TCP connected.
 *
 * @throws {Error} The connect failed or was aborted ({@linkcode UpstreamError} when ALPN did not pick h2).
 */
export async function openTransport(
  backend: Backend,
  o: ConnectOptions,
  tls: TransportTls,
  signal: AbortSignal,
  tcpDone: () => void,
): Promise<Transport> {
  if (o.tls) return await openTls(backend, o, tls, signal, tcpDone);
  const tcp = await Deno.connect({ hostname: backend.host, port: backend.port, signal });
  tcpDone();
  tcp.setNoDelay(true);
  if (o.socket !== undefined) {
    setBackendSocketOptions(
      { localPort: tcp.localAddr.port, remoteHost: tcp.remoteAddr.hostname, remotePort: tcp.remoteAddr.port },
      o.socket,
    );
  }
  return { io: tcp, tlsTime: 0 };
}

function openTls(
  backend: Backend,
  o: ConnectOptions,
  how: TransportTls,
  signal: AbortSignal,
  tcpDone: () => void,
): Promise<Transport> {
  const servername = o.sni && o.sni !== "$host" ? o.sni : backend.host;
  return new Promise<Transport>((resolve, reject) => {
    let tcpAt = 0;
    const tls: TLSSocket = tlsConnect({
      host: backend.host,
      port: backend.port,
      ...(isIP(servername) ? {} : { servername }),
      rejectUnauthorized: o.verifyCert,
      ALPNProtocols: how.offerH1 ? ["h2", "http/1.1"] : ["h2"],
      ...(how.caCerts === undefined ? {} : { ca: [...how.caCerts] }),
      ...(how.clientCert === undefined ? {} : { cert: how.clientCert.cert, key: how.clientCert.key }),
    });
    const onAbort = () => tls.destroy(new Error("aborted"));
    const onError = (e: Error) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    tls.setNoDelay(true);
    tls.once("connect", () => {
      tcpAt = performance.now();
      tcpDone();
      if (o.socket !== undefined) setNodeSocketOptions(tls, o.socket);
    });
    tls.once("secureConnect", () => {
      tls.removeListener("error", onError);
      signal.removeEventListener("abort", onAbort);
      const tlsTime = tcpAt > 0 ? performance.now() - tcpAt : 0;
      if (tls.alpnProtocol !== "h2") {
        tls.destroy();
        reject(new NotH2(backend.addr, tls.alpnProtocol || ""));
        return;
      }
      resolve({ io: new NodeSocketStream(tls), tlsTime });
    });
    tls.once("error", onError);
  });
}
