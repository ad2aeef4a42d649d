/**
 * The process's libc through FFI, for the socket options Deno's API does not set: `setsockopt`, `getsockopt`,
 * `getsockname`, `getpeername`, `fcntl` and `shutdown`. Opened lazily, once per isolate (the main one or a worker), by the first caller
 * that has options to set; a process whose config sets none never opens it.
 *
 * Deno keeps each socket on a plain file descriptor of this process (tokio's `TcpStream`), so the kernel calls work
 * on it once the descriptor is known; Deno does not tell it, so callers find it (runtime/listen/tcp_options.ts by
 * /proc, runtime/upstream/socket_options.ts by the connection's addresses).
 *
 * @module
 */

const SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** Called with two arguments only (`F_GETFD`: is the descriptor open). */
  fcntl: { parameters: ["i32", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/** libc's socket calls. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;
let libc: Libc | string | undefined;

/**
 * libc through FFI, or why it cannot be had (not Linux, FFI not allowed, no libc found); the answer is kept.
 *
 * @example Usage
 * ```ts ignore
 * import { openLibc } from "./libc.ts";
 * const lib = openLibc();
 * if (typeof lib === "string") console.warn(lib);
 * ```
 */
export function openLibc(): Libc | string {
  if (libc !== undefined) return libc;
  if (Deno.build.os !== "linux") return libc = `${Deno.build.os} has no /proc to find the socket by`;
  let why = "libc not found";
  for (const name of ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"]) {
    try {
      return libc = Deno.dlopen(name, SYMBOLS);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return libc = "FFI is not allowed (run with --allow-ffi or --allow-all)";
      }
      why = e instanceof Error ? e.message : String(e);
    }
  }
  return libc = why;
}

/** The option numbers of Linux. */
export const LINUX = {
  SOL_SOCKET: 1,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  IPPROTO_TCP: 6,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_USER_TIMEOUT: 18,
  TCP_FASTOPEN: 23,
  TCP_NODELAY: 1,
  SHUT_RDWR: 2,
} as const;

/**
 * Reads an integer socket option of `fd` (what the kernel holds), or undefined when it cannot be read.
 *
 * @example Usage
 * ```ts ignore
 * import { getIntOption, LINUX } from "./libc.ts";
 * console.log(getIntOption(3, LINUX.SOL_SOCKET, LINUX.SO_KEEPALIVE));
 * ```
 */
export function getIntOption(fd: number, level: number, name: number): number | undefined {
  const lib = openLibc();
  if (typeof lib === "string") return undefined;
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  return lib.symbols.getsockopt(fd, level, name, value, len) === 0 ? value[0] : undefined;
}
