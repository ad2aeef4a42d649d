/**
 * `--admin [user:pass@|base64@]host[:port][/path][?max_age=2d]` (and its
 * fallbacks `PINGAP_ADMIN_ADDR`, `PINGAP_ADMIN_USER`, `PINGAP_ADMIN_PASSWORD`),
 * read as Pingap reads it, and what it adds to the config: a `pingap:admin`
 * plugin, a `pingap:admin` location mounting it, and either a dedicated
 * `pingap:admin` server or, when a server already listens on that address,
 * the location added to that server. The additions go through the compiler
 * like any config (its `amend` option), so `check` sees exactly what runs.
 *
 * @module
 */
import type { RawTree } from "../../compiler/mod.ts";

/** The admin mount given on the command line. */
export interface AdminFlag {
  /** Listen address, `host:port` (IPv6 in brackets). */
  readonly addr: string;
  /** Mount prefix, `/` for the root. */
  readonly path: string;
  /** base64 of `user:password`, or empty (no authentication). */
  readonly authorization: string;
  /** `max_age` of a login token (Pingap's duration text). */
  readonly maxAge: string;
}

/** The plugin, location and server name the flag adds. */
export const ADMIN_NAME = "pingap:admin";

/** The location's weight: above any location a user can write (0–65535 are theirs; the admin runs first in Pingap). */
const ADMIN_WEIGHT = 65535;

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * Parses the flag's value. Returns the mount, or an error message.
 *
 * @example Usage
 * ```ts
 * import { parseAdminFlag } from "./flag.ts";
 * const f = parseAdminFlag("pingap:123123@127.0.0.1:3018");
 * if (typeof f === "string" || f.addr !== "127.0.0.1:3018" || f.authorization !== btoa("pingap:123123")) {
 *   throw new Error();
 * }
 * ```
 */
export function parseAdminFlag(spec: string): AdminFlag | string {
  let url: URL;
  try {
    url = new URL(`http://${spec.trim()}`);
  } catch {
    return `--admin ${JSON.stringify(spec)} is not [user:password@]host[:port][/path][?max_age=2d]`;
  }
  if (url.hostname === "") return `--admin ${JSON.stringify(spec)} has no host`;
  const addr = `${url.hostname}:${url.port === "" ? 80 : Number(url.port)}`;
  let authorization = "";
  if (url.username !== "") {
    const user = decode(url.username);
    // With a password, `user:password`; without one, the user part is already the base64 of `user:password`.
    if (url.password !== "" || spec.slice(0, spec.indexOf("@")).includes(":")) {
      authorization = b64(`${user}:${decode(url.password)}`);
    } else {
      let text: string | undefined;
      try {
        text = atob(user);
      } catch {
        text = undefined;
      }
      if (text === undefined || !text.includes(":")) {
        return `--admin: "${user}" is neither user:password nor the base64 of user:password`;
      }
      authorization = user;
    }
  }
  const maxAge = url.searchParams.get("max_age") || "2d";
  return { addr, path: url.pathname === "" ? "/" : url.pathname, authorization, maxAge };
}

/**
 * The admin spec from `--admin`, else from `PINGAP_ADMIN_ADDR` with `PINGAP_ADMIN_USER` and
 * `PINGAP_ADMIN_PASSWORD` (both set: they become the credentials). Undefined when neither is given.
 */
export function adminSpec(flag: string | undefined, env: (name: string) => string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const addr = env("PINGAP_ADMIN_ADDR");
  if (!addr) return undefined;
  const user = env("PINGAP_ADMIN_USER");
  const password = env("PINGAP_ADMIN_PASSWORD");
  if (user && password) return `${encodeURIComponent(user)}:${encodeURIComponent(password)}@${addr}`;
  return addr;
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::ffff:127.0.0.1";
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function table(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? { ...value as Record<string, unknown> }
    : {};
}

/** The addresses a raw server lists (its `addr`, comma separated), without checking them. */
function serverAddrs(server: unknown): string[] {
  const addr = table(server).addr;
  return typeof addr === "string" ? addr.split(",").map((a) => a.trim()).filter(Boolean) : [];
}

/**
 * The compiler's `amend` for a flag: the raw config with the admin plugin, its location, and its server (or the
 * location added to the server already listening on the address).
 */
export function adminAmend(flag: AdminFlag): (raw: RawTree) => RawTree {
  const path = flag.path.length > 1 ? flag.path.replace(/\/+$/, "") : "/";
  return (raw) => {
    const out: Record<string, unknown> = { ...raw };
    out.plugins = {
      ...table(raw.plugins),
      [ADMIN_NAME]: {
        category: "admin",
        path,
        authorizations: flag.authorization ? [flag.authorization] : [],
        max_age: flag.maxAge,
        remark: "Admin serve",
      },
    };
    out.locations = {
      ...table(raw.locations),
      [ADMIN_NAME]: {
        // The mount and what is below it, never a longer name (`/pingapx` is not `/pingap`).
        path: path === "/" ? "/" : `~^${escapeRegex(path)}(?:/|$)`,
        plugins: [ADMIN_NAME],
        weight: ADMIN_WEIGHT,
      },
    };
    const servers = table(raw.servers);
    const shared = Object.entries(servers).find(([, s]) => serverAddrs(s).includes(flag.addr));
    if (shared) {
      const [name, server] = shared;
      const locations = Array.isArray(table(server).locations) ? table(server).locations as unknown[] : [];
      // Appended, so the indices of the server's own entries (and their diagnostics) stay as written.
      servers[name] = { ...table(server), locations: [...locations, ADMIN_NAME] };
    } else {
      servers[ADMIN_NAME] = { addr: flag.addr, locations: [ADMIN_NAME] };
    }
    out.servers = servers;
    return out;
  };
}
