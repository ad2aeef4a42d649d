/**
 * A server's TCP options (`tcp_idle`, `tcp_interval`, `tcp_probe_count`,
 * `tcp_user_timeout`, `tcp_fastopen`) on its listening sockets.
 *
 * Deno's API sets none of them (`Deno.TcpConn` has only `setNoDelay` and an
 * on/off `setKeepAlive`, a listener only `reusePort`) and hands out no file
 * descriptors. On Linux the options are set on the listening socket itself,
 * once, right after it is bound: accepted connections inherit SO_KEEPALIVE,
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and TCP_USER_TIMEOUT from it, and
 * TCP_FASTOPEN is a listener option. The socket is found by its port in
 * LISTEN state in /proc/net/tcp{,6}, then among this process's descriptors
 * (/proc/self/fd links `socket:[inode]`), and set with libc's `setsockopt`
 * through FFI. Every listener of this process on that port gets them (all
 * workers' sockets with SO_REUSEPORT).
 *
 * Where that cannot be done (not Linux, no `--allow-ffi`, no libc found,
 * a refused option) the server keeps serving and a warning names the
 * options not applied and why.
 *
 * @module
 */
import type { ListenerTcpOptions } from "../../compiler/mod.ts";
import { log } from "../observe/log/app_log.ts";
import { LINUX, openLibc } from "../process/libc.ts";

const {
  SOL_SOCKET,
  SO_KEEPALIVE,
  IPPROTO_TCP,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_KEEPCNT,
  TCP_USER_TIMEOUT,
  TCP_FASTOPEN,
} = LINUX;

/** One row of /proc/net/tcp{,6}: the local port, the peer as written there (`ADDR:PORT` in hex), state and inode. */
export interface ProcTcpRow {
  readonly localPort: number;
  readonly remote: string;
  readonly state: string;
  readonly inode: string;
}

/** Calls `each` for every TCP socket of the host in /proc/net/tcp and tcp6 (a file that cannot be read is skipped). */
export function eachProcTcpRow(each: (row: ProcTcpRow) => void): void {
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = cols[1]!;
      each({
        localPort: parseInt(local.slice(local.lastIndexOf(":") + 1), 16),
        remote: cols[2]!,
        state: cols[3]!,
        inode: cols[9]!,
      });
    }
  }
}

/**
 * Inodes of the sockets on local port `port` in `state` (`"0A"` LISTEN, `"01"` ESTABLISHED), from /proc/net/tcp and
 * tcp6.
 */
export function portInodes(port: number, state: "0A" | "01"): Set<string> {
  const out = new Set<string>();
  eachProcTcpRow((row) => {
    if (row.state === state && row.localPort === port) out.add(row.inode);
  });
  return out;
}

/**
 * This process's file descriptors of the sockets whose inode is in `inodes`.
 *
 * @example Usage
 * ```ts ignore
 * import { socketFds } from "./tcp_options.ts";
 * console.log(socketFds(new Set(["123456"])));
 * ```
 */
export function socketFds(inodes: ReadonlySet<string>): number[] {
  const fds: number[] = [];
  if (inodes.size === 0) return fds;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
      if (m && inodes.has(m[1]!)) fds.push(Number(e.name));
    } catch { /* closed meanwhile */ }
  }
  return fds;
}

/** The options as `[level, name, value, label]`, seconds where the kernel wants seconds. */
function optionList(tcp: ListenerTcpOptions): [number, number, number, string][] {
  const out: [number, number, number, string][] = [];
  const k = tcp.keepalive;
  if (k) {
    out.push([SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE"]);
    out.push([IPPROTO_TCP, TCP_KEEPIDLE, Math.max(1, Math.round(k.idle / 1000)), "tcp_idle"]);
    out.push([IPPROTO_TCP, TCP_KEEPINTVL, Math.max(1, Math.round(k.interval / 1000)), "tcp_interval"]);
    out.push([IPPROTO_TCP, TCP_KEEPCNT, k.count, "tcp_probe_count"]);
    if (k.userTimeout > 0) out.push([IPPROTO_TCP, TCP_USER_TIMEOUT, k.userTimeout, "tcp_user_timeout"]);
  }
  if (tcp.fastOpen !== undefined) out.push([IPPROTO_TCP, TCP_FASTOPEN, tcp.fastOpen, "tcp_fastopen"]);
  return out;
}

/**
 * Sets a server's TCP options on its listening sockets at `addr`; returns
 * the problems (also logged as warnings), empty when all were set.
 */
export function applyListenerTcpOptions(
  server: string,
  addr: Deno.NetAddr,
  tcp: ListenerTcpOptions | undefined,
): string[] {
  if (tcp === undefined) return [];
  const options = optionList(tcp);
  if (options.length === 0) return [];
  const problems: string[] = [];
  const lib = openLibc();
  if (typeof lib === "string") problems.push(`${options.map((o) => o[3]).join(", ")} not applied: ${lib}`);
  else {
    let fds: number[] = [];
    try {
      fds = socketFds(portInodes(addr.port, "0A"));
    } catch (e) {
      problems.push(`cannot read /proc: ${e instanceof Error ? e.message : e}`);
    }
    if (fds.length === 0 && problems.length === 0) problems.push(`no listening socket found on port ${addr.port}`);
    const value = new Int32Array(1);
    for (const fd of fds) {
      for (const [level, name, v, label] of options) {
        value[0] = v;
        if (lib.symbols.setsockopt(fd, level, name, value, 4) !== 0) problems.push(`${label} = ${v} refused`);
      }
    }
  }
  for (const p of problems) log.warn(`server ${server}: TCP option not applied`, { addr: addr.hostname, reason: p });
  return problems;
}

export { getIntOption, LINUX } from "../process/libc.ts";
