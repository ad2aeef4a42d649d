/**
 * An upstream's socket options (`tcp_idle`, `tcp_interval`, `tcp_probe_count`, `tcp_user_timeout`, `tcp_recv_buf`)
 * on each new backend connection, set right after it connected.
 *
 * Deno's connections (`Deno.connect`, and `node:net` / `node:tls` over it) offer only TCP_NODELAY and an on/off
 * keep-alive, and no file descriptor; the socket still lives on a plain descriptor of this process. It is found by
 * its addresses: descriptors are tried from 0 upwards with libc's `getsockname` (through FFI; a non-socket or an
 * unused number fails at once) until one has the connection's local port, and `getpeername` confirms the
 * peer. A new descriptor is the lowest free one, so the search ends at the connection's own number, some hundred
 * nanoseconds per descriptor below it; past 64 unused numbers in a row it reads /proc/self/fd instead. Only
 * upstreams that set one of these keys pay it, once per new connection; a pooled connection keeps its options.
 *
 * Where that cannot be done (not Linux, no `--allow-ffi`, no libc, the socket not found, an option refused) the
 * connection is used as it is and a warning is logged once per upstream and reason.
 *
 * @module
 */
import { parseIp, type UpstreamTcpOptions } from "../../compiler/mod.ts";
import { log } from "../observe/log/app_log.ts";
import { type Libc, LINUX, openLibc } from "../process/libc.ts";

/** An upstream's socket options, as its clients get them. */
export interface BackendSocketOptions {
  /** The upstream's name, for the warning. */
  readonly upstream: string;
  readonly tcp: UpstreamTcpOptions;
}

/** Where a connection leads: its local port and its peer. */
export interface ConnectedAddrs {
  readonly localPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
}

const AF_INET = 2, AF_INET6 = 10, F_GETFD = 1;
/** Unused descriptor numbers in a row after which the upward search stops. */
const GAP = 64;

const sockaddr = new Uint8Array(128);
const sockaddrLen = new Uint32Array(1);
const intValue = new Int32Array(1);
const warned = new Set<string>();

function warnOnce(upstream: string, reason: string): void {
  const key = `${upstream}\0${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  log.warn(`upstream ${upstream}: TCP option not applied`, { reason });
}

/** The port of the address `call` writes for `fd` (into {@linkcode sockaddr}), -1 when it fails or is not IP. */
function portOf(call: (fd: number, addr: Uint8Array, len: Uint32Array) => number, fd: number): number {
  sockaddrLen[0] = sockaddr.length;
  if (call(fd, sockaddr, sockaddrLen) !== 0) return -1;
  const family = sockaddr[0]! | (sockaddr[1]! << 8);
  if (family !== AF_INET && family !== AF_INET6) return -1;
  return (sockaddr[2]! << 8) | sockaddr[3]!;
}

/** Whether the address in {@linkcode sockaddr} is `ip` (an IPv4 peer may show as `::ffff:a.b.c.d`). */
function peerIs(ip: { readonly v6: boolean; readonly bytes: readonly number[] }): boolean {
  const family = sockaddr[0]! | (sockaddr[1]! << 8);
  if (family === AF_INET) return !ip.v6 && ip.bytes.every((b, i) => sockaddr[4 + i] === b);
  if (ip.v6) return ip.bytes.every((b, i) => sockaddr[8 + i] === b);
  for (let i = 0; i < 10; i++) if (sockaddr[8 + i] !== 0) return false;
  return sockaddr[18] === 0xff && sockaddr[19] === 0xff && ip.bytes.every((b, i) => sockaddr[20 + i] === b);
}

/** Whether `fd` is the connection `to`. */
function isConnection(lib: Libc, fd: number, to: ConnectedAddrs, ip: Parameters<typeof peerIs>[0]): boolean {
  if (portOf(lib.symbols.getsockname, fd) !== to.localPort) return false;
  return portOf(lib.symbols.getpeername, fd) === to.remotePort && peerIs(ip);
}

/**
 * This process's file descriptor of the connected TCP socket `to`, or -1 when none is found.
 *
 * @example Usage
 * ```ts ignore
 * import { connectionFd } from "./socket_options.ts";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 8080 });
 * const fd = connectionFd({ localPort: conn.localAddr.port, remoteHost: "127.0.0.1", remotePort: 8080 });
 * ```
 */
export function connectionFd(to: ConnectedAddrs): number {
  const lib = openLibc();
  const ip = parseIp(to.remoteHost);
  if (typeof lib === "string" || ip === undefined) return -1;
  // Upwards from 0: the new descriptor was the lowest free one when the socket was made.
  const { getsockname, fcntl } = lib.symbols;
  let unused = 0;
  for (let fd = 0; unused < GAP; fd++) {
    sockaddrLen[0] = sockaddr.length;
    if (getsockname(fd, sockaddr, sockaddrLen) !== 0) {
      // Not a socket, or no descriptor (F_GETFD fails): only the latter counts towards the gap.
      if (fcntl(fd, F_GETFD) < 0) unused++;
      else unused = 0;
      continue;
    }
    unused = 0;
    if (isConnection(lib, fd, to, ip)) return fd;
  }
  // Past a gap (descriptors closed since, or placed high): every descriptor there is.
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    if (isConnection(lib, fd, to, ip)) return fd;
  }
  return -1;
}

/**
 * Sets `options` on the just-connected backend connection `to`; a failure is logged once per upstream and reason,
 * and the connection is used as it is.
 */
export function setBackendSocketOptions(to: ConnectedAddrs, options: BackendSocketOptions): void {
  const lib = openLibc();
  if (typeof lib === "string") return warnOnce(options.upstream, lib);
  let fd: number;
  try {
    fd = connectionFd(to);
  } catch (e) {
    return warnOnce(options.upstream, `cannot read /proc: ${e instanceof Error ? e.message : e}`);
  }
  if (fd < 0) return warnOnce(options.upstream, "the backend connection's socket was not found");
  const set = (level: number, name: number, value: number, label: string) => {
    intValue[0] = value;
    if (lib.symbols.setsockopt(fd, level, name, intValue, 4) !== 0) {
      warnOnce(options.upstream, `${label} = ${value} refused`);
    }
  };
  const keepalive = options.tcp.keepalive;
  if (keepalive !== undefined) {
    set(LINUX.SOL_SOCKET, LINUX.SO_KEEPALIVE, 1, "SO_KEEPALIVE");
    set(LINUX.IPPROTO_TCP, LINUX.TCP_KEEPIDLE, Math.max(1, Math.round(keepalive.idle / 1000)), "tcp_idle");
    set(LINUX.IPPROTO_TCP, LINUX.TCP_KEEPINTVL, Math.max(1, Math.round(keepalive.interval / 1000)), "tcp_interval");
    set(LINUX.IPPROTO_TCP, LINUX.TCP_KEEPCNT, keepalive.count, "tcp_probe_count");
    if (keepalive.userTimeout > 0) {
      set(LINUX.IPPROTO_TCP, LINUX.TCP_USER_TIMEOUT, keepalive.userTimeout, "tcp_user_timeout");
    }
  }
  const recvBuf = options.tcp.recvBuf;
  if (recvBuf !== undefined) set(LINUX.SOL_SOCKET, LINUX.SO_RCVBUF, recvBuf, "tcp_recv_buf");
}

/**
 * {@linkcode setBackendSocketOptions} for a `node:net` / `node:tls` socket once its "connect" event came; nothing
 * when its addresses are not known.
 */
export function setNodeSocketOptions(
  socket: {
    readonly localPort?: number | undefined;
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
  },
  options: BackendSocketOptions,
): void {
  const { localPort, remoteAddress, remotePort } = socket;
  if (localPort === undefined || remoteAddress === undefined || remotePort === undefined) {
    return warnOnce(options.upstream, "the connection's addresses are not known");
  }
  setBackendSocketOptions({ localPort, remoteHost: remoteAddress, remotePort }, options);
}
