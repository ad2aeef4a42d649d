/**
 * `algo = "sticky:<cookie>"` (Pingap 0.16): a client stays on the backend
 * its cookie names.
 *
 * The cookie's value is the backend's id: FNV-1a 64 of its address as
 * written (`10.0.0.1:8080`, `[::1]:80`), 16 lower-case hex digits, the
 * same in every process and version. A request whose cookie names a
 * backend that is there, healthy, let through by its circuit breaker and
 * not already failed by this request goes there and gets no new cookie.
 * Any other request is balanced round robin and told its backend by a
 * `Set-Cookie: <cookie>=<id>; Path=/; HttpOnly; SameSite=Lax` (plus
 * `Secure` over TLS), as Pingap writes it. With `fail_open` and no backend
 * that can take the request, the one the cookie names is kept.
 *
 * @module
 */
import type { Backend } from "./types.ts";

const ids = new WeakMap<Backend, string>();
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/**
 * The id of a backend in the cookie: FNV-1a 64 of its address, 16 hex digits.
 *
 * @example Usage
 * ```ts
 * import { backendId } from "./sticky.ts";
 * if (backendId({ host: "a", port: 80, weight: 1, addr: "" }) !== "cbf29ce484222325") throw new Error();
 * ```
 */
export function backendId(backend: Backend): string {
  let id = ids.get(backend);
  if (id !== undefined) return id;
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(backend.addr)) h = ((h ^ BigInt(byte)) * PRIME) & MASK;
  id = h.toString(16).padStart(16, "0");
  ids.set(backend, id);
  return id;
}

/** What {@linkcode stickyPick} needs of a live upstream. */
export interface StickySource {
  backends(): readonly Backend[];
  /** Healthy and let through by its circuit breaker (counts a half-open probe). */
  able(backend: Backend): boolean;
  /** A backend that can take the request (round robin), not one of `tried`. */
  pickAble(tried: ReadonlySet<string> | undefined): Backend | undefined;
  /** The same, falling back on any backend with `fail_open`. */
  pick(tried: ReadonlySet<string> | undefined): Backend | undefined;
  readonly failOpen: boolean;
}

/**
 * Picks a backend for a request carrying `cookie` (the value of the
 * client's sticky cookie, if any). Returns the backend and the
 * `name=value` to set, undefined when the client's cookie already names it.
 */
export function stickyPick(
  up: StickySource,
  name: string,
  cookie: string | undefined,
  tried: ReadonlySet<string> | undefined,
): { backend: Backend; setCookie: string | undefined } | undefined {
  let named: Backend | undefined;
  if (cookie !== undefined) {
    const wanted = cookie.trim().toLowerCase();
    if (/^[0-9a-f]{1,16}$/.test(wanted)) {
      const id = wanted.padStart(16, "0");
      named = up.backends().find((b) => backendId(b) === id && !tried?.has(b.addr));
      if (named && up.able(named)) return { backend: named, setCookie: undefined };
    }
  }
  let backend = up.pickAble(tried);
  if (backend === undefined) {
    if (!up.failOpen) return undefined;
    if (named) return { backend: named, setCookie: undefined };
    backend = up.pick(tried);
    if (backend === undefined) return undefined;
  }
  return { backend, setCookie: `${name}=${backendId(backend)}` };
}
