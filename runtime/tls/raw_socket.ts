/**
 * What a `Deno.TlsConn` and its listener do not offer, done on the raw socket: libc through FFI, the descriptor found as
 * runtime/listen/tcp_options.ts finds a listener's (/proc/net/tcp{,6} gives the inode, /proc/self/fd the descriptor).
 * Linux with `--allow-ffi` only; elsewhere a warning says what is not done.
 *
 * - Cutting a connection whose handshake never finishes. Deno 2.9 cannot: its TLS stream does the handshake in a task
 *   of its own that holds the TCP socket until the client speaks or leaves, and `close()` before the end of the
 *   handshake only waits for that task (rustls-tokio-stream's drop; measured: a client that connects and says nothing
 *   keeps its socket, closed or not). So the socket is shut down (`shutdown(fd, SHUT_RDWR)`): the handshake reads the
 *   end of the stream, fails, and Deno drops the socket.
 * - `TCP_NODELAY`: a `Deno.TlsConn` has no `setNoDelay` and Deno leaves Nagle's algorithm on, which held small HTTP/2
 *   frames for the peer's delayed ACK (h2load: about 1k requests a second instead of tens of thousands). Set on the
 *   listening socket, it is inherited by every connection Linux accepts on it.
 *
 * @module
 */
import { eachProcTcpRow, portInodes, socketFds } from "../listen/tcp_options.ts";
import { LINUX, openLibc } from "../process/libc.ts";
import { log } from "../observe/log/app_log.ts";

const { SHUT_RDWR, IPPROTO_TCP, TCP_NODELAY } = LINUX;
/**
 * Handshakes that time out within this long of each other are cut with one read of /proc (which costs all the host's
 * sockets): at most once a second, however many silent clients come.
 */
const CUT_BATCH_MS = 1000;
let warned = false, warnedNoDelay = false;

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");

/** The bytes of an IPv4 address, or undefined. */
function ipv4Bytes(ip: string): number[] | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255) ? bytes : undefined;
}

/** The 16 bytes of an IPv6 address (a dotted IPv4 tail allowed), or undefined. */
function ipv6Bytes(ip: string): number[] | undefined {
  const zone = ip.indexOf("%");
  const text = zone < 0 ? ip : ip.slice(0, zone);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (g.includes(".")) {
        const v4 = ipv4Bytes(g);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        const v = parseInt(g, 16);
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(v);
      }
    }
    return out;
  };
  const head = groups(halves[0]!), tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const all = [...head, ...Array<number>(fill).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** An address as /proc/net/tcp{,6} writes it: each 32-bit word in the host's (little-endian) byte order, in hex. */
function procHex(bytes: readonly number[]): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    out += hex2(bytes[i + 3]!) + hex2(bytes[i + 2]!) + hex2(bytes[i + 1]!) + hex2(bytes[i]!);
  }
  return out;
}

/**
 * The forms a peer address takes in /proc/net/tcp (IPv4) and tcp6 (IPv6, or IPv4 mapped on a dual-stack listener).
 *
 * @example Usage
 * ```ts
 * import { procAddresses } from "./raw_socket.ts";
 * const forms = procAddresses("127.0.0.1");
 * if (forms[0] !== "0100007F" || forms[1] !== "0000000000000000FFFF00000100007F") throw new Error();
 * ```
 */
export function procAddresses(hostname: string): string[] {
  const v4 = ipv4Bytes(hostname);
  if (v4) return [procHex(v4), procHex([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4])];
  const v6 = ipv6Bytes(hostname);
  return v6 ? [procHex(v6)] : [];
}

/** A connection by its two ends. */
export interface SocketEnds {
  /** The port it was accepted on. */
  readonly localPort: number;
  /** The client. */
  readonly remote: Deno.NetAddr;
}

/**
 * Shuts down the sockets of `conns` (both directions), found by their ends among this process's sockets.
 *
 * @returns How many were shut down; a reason when none could be (not Linux, no FFI).
 */
export function shutdownSockets(conns: readonly SocketEnds[]): number | string {
  if (conns.length === 0) return 0;
  const lib = openLibc();
  if (typeof lib === "string") return lib;
  const wanted = new Map<string, true>();
  for (const c of conns) {
    for (const a of procAddresses(c.remote.hostname)) {
      wanted.set(`${c.localPort}|${a}:${hex2(c.remote.port >> 8)}${hex2(c.remote.port & 0xff)}`, true);
    }
  }
  const inodes = new Set<string>();
  eachProcTcpRow((row) => {
    if (wanted.has(`${row.localPort}|${row.remote}`)) inodes.add(row.inode);
  });
  let cut = 0;
  for (const fd of socketFds(inodes)) if (lib.symbols.shutdown(fd, SHUT_RDWR) === 0) cut++;
  return cut;
}

/**
 * Shuts down connections whose handshake timed out, batched: those that time out within a second of each other are
 * found with one read of /proc. Warns once when it cannot.
 */
export function handshakeCutter(): (conn: SocketEnds) => void {
  let batch: SocketEnds[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const conns = batch;
    batch = [];
    const r = shutdownSockets(conns);
    if (typeof r === "string" && !warned) {
      warned = true;
      log.warn("TLS handshake timeout not enforced on the deno-tls engine", { reason: r });
    }
  };
  return (conn) => {
    batch.push(conn);
    timer ??= setTimeout(flush, CUT_BATCH_MS);
  };
}

/**
 * Sets `TCP_NODELAY` on this process's listening sockets on `port` (connections accepted from then on inherit it).
 * Warns once when it cannot.
 */
export function listenerNoDelay(port: number): void {
  const lib = openLibc();
  let why = typeof lib === "string" ? lib : "";
  if (typeof lib !== "string") {
    const one = new Int32Array([1]);
    let set = 0;
    try {
      for (const fd of socketFds(portInodes(port, "0A"))) {
        if (lib.symbols.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) === 0) set++;
      }
    } catch (e) {
      why = `cannot read /proc: ${e instanceof Error ? e.message : e}`;
    }
    if (set === 0 && why === "") why = `no listening socket found on port ${port}`;
  }
  if (why !== "" && !warnedNoDelay) {
    warnedNoDelay = true;
    log.warn("TCP_NODELAY not set on the deno-tls engine's connections: small writes may wait", { reason: why });
  }
}
