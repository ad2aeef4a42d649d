/**
 * Which TLS engine terminates a server's TLS, by its config alone (docs/tls.md, figures in bench/README.md):
 *
 * - `deno-tls`: `Deno.listenTls` (rustls) with its SNI resolver over the certificate store, the decrypted
 *   `Deno.TlsConn` handed straight to the HTTP/1.1 or HTTP/2 engine (runtime/tls/deno_listener.ts). Measured: 1.5–2.5× the
 *   small keep-alive requests of `node:tls`; with one certificate as many handshakes as a bare `Deno.serve`, with
 *   several about `node:tls`'s (Deno's resolver builds a rustls config per handshake).
 * - `node-tls`: `node:tls` (runtime/tls/listener.ts), for what `Deno.TlsConn` cannot do: ask for client certificates
 *   (`tls_client_ca`), read a PROXY protocol header or the ClientHello (JA4) before the handshake, restrict the TLS
 *   versions to other than rustls' 1.2 and 1.3, or tell the version and cipher a connection settled
 *   (`{:tls_version}`, `{:tls_cipher}` in the access log).
 *
 * @module
 */
import type { ServerPlan } from "../../compiler/mod.ts";

/** The two TLS engines. */
export type TlsEngineName = "deno-tls" | "node-tls";

/** Context keys only `node:tls` fills (a `Deno.TlsConn` tells neither its version nor its cipher). */
const NODE_TLS_KEYS: ReadonlySet<string> = new Set(["tls_version", "tls_cipher"]);

/**
 * Can this isolate run the `deno-tls` engine? It reopens its socket beside the old one when a certificate changes,
 * which needs `reusePort` on `Deno.listenTls`: unstable in Deno 2.9 (`--unstable-net`; without the flag the call ends
 * the process, so the flag is looked for by an API it also brings).
 */
export function denoTlsAvailable(): boolean {
  return "connectQuic" in Deno;
}

/**
 * The engine that serves `sp`'s TLS: `deno-tls` unless a setting needs `node:tls` (see the module doc).
 * `tls_min_version` `tlsv1.1` or `tlsv1.2` and `tls_max_version` `tlsv1.3` are what rustls offers anyway (1.1 is
 * served as 1.2 by both engines); `tls_min_version = "tlsv1.3"` or `tls_max_version` `tlsv1.1`/`tlsv1.2` restrict it.
 */
export function tlsEngineOf(sp: ServerPlan, available = denoTlsAvailable()): TlsEngineName {
  if (!available || sp.tlsClientCa !== undefined || sp.proxyProtocol || sp.ja4 === true) return "node-tls";
  if (sp.tlsMinVersion === "tlsv1.3" || (sp.tlsMaxVersion !== undefined && sp.tlsMaxVersion !== "tlsv1.3")) {
    return "node-tls";
  }
  for (const part of sp.accessLog?.parts ?? []) {
    if (typeof part === "object" && "ctx" in part && NODE_TLS_KEYS.has(part.ctx)) return "node-tls";
  }
  return "deno-tls";
}
