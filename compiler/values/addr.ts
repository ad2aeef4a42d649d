/**
 * Listen addresses (`ip:port`, comma lists, `[::]:80`) and upstream
 * addresses (`host[:port] [weight]`).
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";

/** One listen address. */
export interface ListenAddr {
  /** IP literal without brackets (`0.0.0.0`, `::`). */
  readonly hostname: string;
  readonly port: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for an IPv4 literal. */
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** True for an IPv6 literal (no brackets, no zone). */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(":")) return false;
  let head = s;
  let groupsFromV4 = 0;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!isIPv4(tail)) return false;
    head = s.slice(0, lastColon + 1) + "0:0";
    groupsFromV4 = 0;
  }
  const double = head.split("::");
  if (double.length > 2) return false;
  const parts = (p: string) => p === "" ? [] : p.split(":");
  const left = parts(double[0]!);
  const right = double.length === 2 ? parts(double[1]!) : [];
  const all = [...left, ...right];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const count = all.length + groupsFromV4;
  return double.length === 2 ? count <= 7 : count === 8;
}

function parsePort(text: string, whole: string): Parsed<number> {
  if (!/^\d+$/.test(text)) {
    return {
      ok: false,
      message: `Port ${JSON.stringify(text)} in ${JSON.stringify(whole)} is not a number`,
      hint: "Write ip:port, e.g. 0.0.0.0:80",
    };
  }
  const port = Number(text);
  if (port > 65535) {
    return {
      ok: false,
      message: `Port ${port} in ${JSON.stringify(whole)} is out of range`,
      hint: "Ports go from 0 to 65535",
    };
  }
  return { ok: true, value: port };
}

/**
 * Parses a comma-separated list of listen addresses.
 *
 * @example Usage
 * ```ts
 * import { listenAddrs } from "./addr.ts";
 * const r = listenAddrs("0.0.0.0:80,[::]:80");
 * if (!r.ok || r.value[1]?.hostname !== "::") throw new Error();
 * ```
 */
export function listenAddrs(text: string): Parsed<readonly ListenAddr[]> {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) {
    return { ok: false, message: "Listen address is empty", hint: 'Write ip:port, e.g. "0.0.0.0:6188"' };
  }
  const out: ListenAddr[] = [];
  for (const item of items) {
    let host: string;
    let portText: string;
    const v6 = /^\[([^\]]*)\]:(.*)$/.exec(item);
    if (v6) {
      host = v6[1]!;
      portText = v6[2]!;
      if (!isIPv6(host)) {
        return {
          ok: false,
          message: `Listen address ${JSON.stringify(item)} has an invalid IPv6 address`,
          hint: 'Write e.g. "[::]:80"',
        };
      }
    } else {
      const colon = item.lastIndexOf(":");
      if (colon < 0) {
        return {
          ok: false,
          message: `Listen address ${JSON.stringify(item)} has no port`,
          hint: `Write ip:port, e.g. "${item}:80"`,
        };
      }
      host = item.slice(0, colon);
      portText = item.slice(colon + 1);
      if (host.includes(":")) {
        return {
          ok: false,
          message: `Listen address ${JSON.stringify(item)} needs brackets around the IPv6 address`,
          hint: 'Write e.g. "[::]:80"',
        };
      }
      if (host === "" || host === "*") host = "0.0.0.0";
      else if (host === "localhost") host = "127.0.0.1";
      else if (!isIPv4(host)) {
        return {
          ok: false,
          message: `Listen address ${JSON.stringify(item)} is not an IP address`,
          hint: 'Listen on an IP, e.g. "0.0.0.0:80" or "127.0.0.1:80"',
        };
      }
    }
    const port = parsePort(portText, item);
    if (!port.ok) return port;
    out.push({ hostname: host, port: port.value });
  }
  return { ok: true, value: out };
}

/** One upstream address as written (port resolved later: 80, or 443 with TLS). */
export interface UpstreamAddr {
  /** Host name or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port?: number;
  readonly weight: number;
}

/**
 * Parses `host[:port] [weight]`.
 *
 * @example Usage
 * ```ts
 * import { upstreamAddr } from "./addr.ts";
 * const r = upstreamAddr("127.0.0.1:5001 10");
 * if (!r.ok || r.value.port !== 5001 || r.value.weight !== 10) throw new Error();
 * ```
 */
export function upstreamAddr(text: string): Parsed<UpstreamAddr> {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === "") {
    return {
      ok: false,
      message: "Upstream address is empty",
      hint: 'Write "host[:port] [weight]", e.g. "127.0.0.1:8080 10"',
    };
  }
  if (parts.length > 2) {
    return {
      ok: false,
      message: `upstream addr(${text.trim()}) has more than a weight after the address`,
      hint: 'Write "host[:port] [weight]", e.g. "127.0.0.1:8080 10"',
    };
  }
  let weight = 1;
  if (parts.length === 2) {
    if (!/^\d+$/.test(parts[1]!)) {
      return {
        ok: false,
        message: `upstream addr(${text.trim()}) weight must be a positive integer, got ${JSON.stringify(parts[1])}`,
        hint: 'Write a whole number after a space, e.g. "127.0.0.1:8080 10"',
      };
    }
    weight = Number(parts[1]);
    if (weight < 1 || weight > 65535) {
      return {
        ok: false,
        message: `upstream addr(${text.trim()}) weight must be a positive integer from 1 to 65535, got ${weight}`,
        hint: "Use a weight from 1 to 65535",
      };
    }
  }
  const hp = parts[0]!;
  let host = hp;
  let portText: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(hp);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
    if (!isIPv6(host)) {
      return { ok: false, message: `Upstream address ${JSON.stringify(text)} has an invalid IPv6 address` };
    }
  } else if (isIPv6(hp)) {
    host = hp;
  } else {
    const colon = hp.lastIndexOf(":");
    if (colon >= 0) {
      host = hp.slice(0, colon);
      portText = hp.slice(colon + 1);
    }
    if (!/^[A-Za-z0-9_.=-]+$/.test(host)) {
      return {
        ok: false,
        message: `Upstream host ${JSON.stringify(host)} in ${JSON.stringify(text)} is not a valid host name or IP`,
        hint: 'Write "host[:port] [weight]"',
      };
    }
  }
  if (portText === undefined) return { ok: true, value: { host, weight } };
  const port = parsePort(portText, text);
  if (!port.ok) return port;
  if (port.value === 0) {
    return {
      ok: false,
      message: `Port 0 in upstream address ${JSON.stringify(text)} cannot be connected to`,
      hint: "Use the port the backend listens on",
    };
  }
  return { ok: true, value: { host, port: port.value, weight } };
}
