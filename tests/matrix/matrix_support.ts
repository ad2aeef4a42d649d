/**
 * The parts of the front-end matrix (front_end_matrix_test.ts): its four columns (h1, h1+TLS, h2+TLS, h2c) as proxy
 * configs, the real origins every column proxies to (an echo origin with a held path, a WebSocket echo, a raw
 * `x-echo` Upgrade origin that echoes bytes after its 101, a @grpc/grpc-js server), and the clients' plumbing: curl
 * with the column's protocol flags, raw connections (TLS with the test CA and a chosen ALPN), h2 frames by hand.
 *
 * @module
 */
import { echoHandler, type Origin, rawTarget, startOrigin } from "../_support/origin.ts";
import { type RawServer, startRawServer } from "../_support/raw_server.ts";
import { type GrpcOrigin, startGrpcOrigin } from "../_support/grpc_echo.ts";
import type { TestPki } from "../_support/certs.ts";

/** One column of the matrix: how the client reaches the proxy. */
export interface Column {
  /** `h1`, `h1+TLS`, `h2+TLS`, `h2c`. */
  readonly name: string;
  readonly tls: boolean;
  /** The server has `enabled_h2` and the column's HTTP requests go as HTTP/2. */
  readonly h2: boolean;
}

/** The four columns. */
export const COLUMNS: readonly Column[] = [
  { name: "h1", tls: false, h2: false },
  { name: "h1+TLS", tls: true, h2: false },
  { name: "h2+TLS", tls: true, h2: true },
  { name: "h2c", tls: false, h2: true },
];

/** The name the TLS columns' certificate is for (and what curl, gRPC and raw TLS clients ask for by SNI). */
export const HOST = "a.test";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The origins of a column. */
export interface MatrixOrigins {
  /** Echo origin (origin.ts's JSON echo); `GET /hold` waits for {@linkcode MatrixOrigins.release}. */
  readonly echo: Origin;
  /** WebSocket echo: text `t` comes back as `echo:t`, binary as is. */
  readonly ws: Origin;
  /** Raw upgrade origin: answers `Upgrade: x-echo` with 101, then echoes every byte. */
  readonly raw: RawServer;
  readonly grpc: GrpcOrigin;
  /** `/hold` requests that reached the echo origin. */
  held(): number;
  /** Lets the held requests answer `held`. */
  release(): void;
  close(): Promise<void>;
}

/** Starts the origins of one column. */
export async function startMatrixOrigins(): Promise<MatrixOrigins> {
  let held = 0;
  let gate = Promise.withResolvers<void>();
  const echo = echoHandler("o");
  const echoOrigin = await startOrigin("o", async (req, info) => {
    if (rawTarget(req.url).path !== "/hold") return echo(req, info);
    held++;
    await gate.promise;
    return new Response("held");
  });
  const ws = await startOrigin("ws", (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not a websocket", { status: 400 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(typeof e.data === "string" ? `echo:${e.data}` : e.data);
    socket.onerror = () => {};
    return response;
  });
  const raw = startRawServer(async (conn) => {
    const buf = new Uint8Array(65536);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return;
      head += dec.decode(buf.subarray(0, n));
    }
    if (!/^upgrade: x-echo\r$/im.test(head)) {
      await conn.write(enc.encode("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"));
      return;
    }
    await conn.write(enc.encode("HTTP/1.1 101 Switching Protocols\r\nupgrade: x-echo\r\nconnection: upgrade\r\n\r\n"));
    const early = head.slice(head.indexOf("\r\n\r\n") + 4);
    if (early.length > 0) await conn.write(enc.encode(early));
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      await conn.write(buf.subarray(0, n));
    }
  });
  const grpc = await startGrpcOrigin();
  return {
    echo: echoOrigin,
    ws,
    raw,
    grpc,
    held: () => held,
    release() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
    },
    async close() {
      gate.resolve();
      await Promise.allSettled([echoOrigin.close(), ws.close(), raw.close(), grpc.close()]);
    },
  };
}

/**
 * The config of a column: one server on a free port, `downstream_read_timeout = "2s"` (the slowloris cells), a short
 * grace period (the drain cell), an access log on stdout (`<method>@<path> <proto> <payload_size>
 * <tls_version> <tls_cipher>|`), locations `/ws`, `/raw` (h1_upgrade preserve), `/test.Echo` (gRPC, an h2 upstream) and the rest to
 * the echo origin.
 */
export function columnToml(column: Column, origins: MatrixOrigins, pki: TestPki): string {
  const cert = pki.leaves[HOST]!;
  return `
[basic]
grace_period = "1s"

[upstreams.o]
addrs = ["${origins.echo.addr}"]
[upstreams.ws]
addrs = ["${origins.ws.addr}"]
[upstreams.raw]
addrs = ["${origins.raw.addr}"]
h1_upgrade = "preserve"
[upstreams.grpc]
addrs = ["127.0.0.1:${origins.grpc.port}"]
alpn = "H2"

[locations.o]
upstream = "o"
[locations.ws]
path = "/ws"
upstream = "ws"
[locations.raw]
path = "/raw"
upstream = "raw"
[locations.grpc]
path = "/test.Echo"
upstream = "grpc"

[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = ${column.h2}
downstream_read_timeout = "2s"
access_log = "stdout {method}@{path} {proto} {payload_size} {:tls_version} {:tls_cipher}|"
locations = ["o", "ws", "raw", "grpc"]
${
    column.tls
      ? `global_certificates = true\n[certificates.c]\ntls_cert = "${cert.certFile}"\ntls_key = "${cert.keyFile}"\nis_default = true\n`
      : ""
  }`;
}

/** What a curl run printed. */
export interface CurlRun {
  /** curl's exit code. */
  readonly code: number;
  /** The status lines of every response head, in order (`HTTP/1.1 100 Continue`, `HTTP/2 200`, …). */
  readonly statusLines: readonly string[];
  /** The status of the last (final) response. */
  readonly status: number;
  readonly body: string;
  /** `%{http_version}` of the final response (`1.1`, `2`, …). */
  readonly version: string;
  /** curl's `-v` output (request lines start with `> `). */
  readonly verbose: string;
}

/** The curl arguments that reach `path` on a column's proxy on `port` (protocol flag, CA and name on TLS). */
export function curlTarget(column: Column, port: number, path: string, ca: string): string[] {
  if (!column.tls) return [column.h2 ? "--http2-prior-knowledge" : "--http1.1", `http://127.0.0.1:${port}${path}`];
  return [
    column.h2 ? "--http2" : "--http1.1",
    "--cacert",
    ca,
    "--resolve",
    `${HOST}:${port}:127.0.0.1`,
    `https://${HOST}:${port}${path}`,
  ];
}

/**
 * Runs `curl -sS -i -v <args>`; `input` chunks are written to its stdin one by one, `gapMs` apart (an upload of
 * unknown length with `-T -`).
 */
export async function curlRun(args: string[], input?: readonly Uint8Array[], gapMs = 30): Promise<CurlRun> {
  const child = new Deno.Command("curl", {
    args: ["-sS", "-i", "-v", "--max-time", "20", "-w", "%{stderr}@@version=%{http_version}@@", ...args],
    stdin: input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input) {
    const w = child.stdin.getWriter();
    for (const chunk of input) {
      await w.write(chunk);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await w.close();
  }
  const out = await child.output();
  const text = dec.decode(out.stdout);
  const verbose = dec.decode(out.stderr);
  const statusLines: string[] = [];
  let rest = text;
  while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    statusLines.push(rest.slice(0, rest.indexOf("\r\n")));
    rest = rest.slice(end + 4);
  }
  const last = statusLines.at(-1) ?? "";
  return {
    code: out.code,
    statusLines,
    status: Number(last.split(" ")[1] ?? 0),
    body: rest,
    version: verbose.match(/@@version=([^@]*)@@/)?.[1] ?? "",
    verbose,
  };
}

/** A connection to the proxy: plain TCP, or TLS for {@linkcode HOST} with the test CA and `alpn` offered. */
export async function connectTo(port: number, tls?: { ca: string; alpn: string }): Promise<Deno.Conn> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  if (!tls) return tcp;
  const conn = await Deno.startTls(tcp, { hostname: HOST, caCerts: [tls.ca], alpnProtocols: [tls.alpn] });
  const hs = await conn.handshake();
  if (hs.alpnProtocol !== tls.alpn) {
    conn.close();
    throw new Error(`ALPN chose ${hs.alpnProtocol}, not ${tls.alpn}`);
  }
  return conn;
}

/** Reads from `conn` until `pattern` matches what came (as text), or it ends; returns the text. */
export async function readUntil(conn: Deno.Conn, done: (text: string) => boolean): Promise<string> {
  const buf = new Uint8Array(65536);
  let text = "";
  while (!done(text)) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
  }
  return text;
}

/** The HTTP/2 client preface and an empty SETTINGS frame. */
export const H2_PREFACE = new Uint8Array([
  ...enc.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
  ...[0, 0, 0, 4, 0, 0, 0, 0, 0],
]);

/**
 * A HEADERS frame on stream 1 with END_STREAM but not END_HEADERS (a CONTINUATION must follow): HPACK `GET`, the
 * scheme, `/`, `:authority` {@linkcode HOST}.
 */
export function headersWithoutEnd(tls: boolean): Uint8Array {
  const host = enc.encode(HOST);
  const block = [0x82, tls ? 0x87 : 0x86, 0x84, 0x41, host.byteLength, ...host];
  return new Uint8Array([0, 0, block.length, 1, 0x1, 0, 0, 0, 1, ...block]);
}
