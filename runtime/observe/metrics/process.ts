/**
 * Process figures for `pingap_memory`, `pingap_fd_count`, `pingap_tcp_count`
 * and `pingap_tcp6_count`, read when metrics are scraped. Linux `/proc`
 * only: elsewhere (or without read permission) a figure is undefined and
 * its gauge keeps its last value (0 at start).
 *
 * @module
 */

/** Resident memory in whole MiB (Pingap's `memory_mb`). */
export function memoryMb(): number | undefined {
  try {
    return Math.floor(Deno.memoryUsage().rss / (1024 * 1024));
  } catch {
    return undefined;
  }
}

/** Open file descriptors of this process (entries of `/proc/self/fd`). */
export async function fdCount(dir = "/proc/self/fd"): Promise<number | undefined> {
  try {
    let n = 0;
    for await (const _ of Deno.readDir(dir)) n++;
    return n;
  } catch {
    return undefined;
  }
}

/**
 * Sockets listed in a `/proc/net/tcp`-style table: its lines after the
 * header. Like Pingap, that is every TCP socket of the network namespace,
 * not only this process's.
 *
 * @example Usage
 * ```ts
 * import { countTcpTable } from "./process.ts";
 * const table = "  sl  local_address rem_address\n   0: 0100007F:1F90 00000000:0000\n   1: 0100007F:1F91 00000000:0000\n";
 * if (countTcpTable(table) !== 2) throw new Error();
 * ```
 */
export function countTcpTable(text: string): number {
  let n = 0;
  let first = true;
  for (const line of text.split("\n")) {
    if (first) {
      first = false;
      continue;
    }
    if (line.trim() !== "") n++;
  }
  return n;
}

/** TCP sockets of the network namespace from `/proc/self/net/tcp` (or `tcp6`). */
export async function tcpCount(family: "tcp" | "tcp6", root = "/proc/self/net"): Promise<number | undefined> {
  try {
    return countTcpTable(await Deno.readTextFile(`${root}/${family}`));
  } catch {
    return undefined;
  }
}
