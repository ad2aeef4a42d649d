/**
 * IP addresses and CIDR networks (IPv4 and IPv6), parsed once at compile
 * time into plain data that survives `structuredClone`, plus the pure
 * matcher the runtime uses on every request ({@linkcode ipInList}).
 *
 * A single address is a network with a full prefix (`/32` or `/128`). Host
 * bits below the prefix are cleared, so `192.168.1.1/24` is the network
 * `192.168.1.0/24`, as Pingap's `ipnet` parser treats it. IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.1`) are matched as IPv4.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";

/** An IP network: address bytes (4 or 16) with host bits cleared, and a prefix length. */
export interface IpNet {
  /** True for IPv6 (16 bytes), false for IPv4 (4 bytes). */
  readonly v6: boolean;
  /** Network address bytes, most significant first. */
  readonly bytes: readonly number[];
  /** Prefix length: 0–32 for IPv4, 0–128 for IPv6. */
  readonly prefix: number;
}

/** A parsed IP address. */
export interface IpAddress {
  /** True for IPv6 (16 bytes), false for IPv4 (4 bytes). */
  readonly v6: boolean;
  /** Address bytes, most significant first. */
  readonly bytes: readonly number[];
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    // Leading zeros are rejected, as Rust's `Ipv4Addr` parser does (they read as octal elsewhere).
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(text: string): number[] | undefined {
  let head = text;
  let tail = "";
  const dbl = text.indexOf("::");
  if (dbl >= 0) {
    if (text.indexOf("::", dbl + 1) >= 0) return undefined;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (s: string, allowV4: boolean): number[] | undefined => {
    if (s === "") return [];
    const items = s.split(":");
    const out: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (allowV4 && i === items.length - 1 && item.includes(".")) {
        const v4 = parseV4(item);
        if (!v4) return undefined;
        out.push(v4[0]! << 8 | v4[1]!, v4[2]! << 8 | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
      out.push(parseInt(item, 16));
    }
    return out;
  };
  const h = groups(head, dbl < 0);
  const t = groups(tail, true);
  if (!h || !t) return undefined;
  let words: number[];
  if (dbl >= 0) {
    const missing = 8 - h.length - t.length;
    if (missing < 1) return undefined;
    words = [...h, ...new Array<number>(missing).fill(0), ...t];
  } else {
    if (h.length !== 8) return undefined;
    words = h;
  }
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Is this IPv6 address an IPv4-mapped one (`::ffff:a.b.c.d`)? */
function isV4Mapped(bytes: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses an IP address (no prefix). Brackets (`[::1]`) and an IPv6 zone
 * (`fe80::1%eth0`) are accepted and dropped, since client addresses can
 * carry them. Returns `undefined` for anything else that is not an address.
 *
 * @example Usage
 * ```ts
 * import { parseIp } from "./ip.ts";
 * if (parseIp("10.0.0.1")?.bytes.join(".") !== "10.0.0.1") throw new Error();
 * if (parseIp("999.999.999.999") !== undefined) throw new Error();
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0 && s.includes(":")) s = s.slice(0, zone);
  if (s.includes(":")) {
    const bytes = parseV6(s);
    return bytes ? { v6: true, bytes } : undefined;
  }
  const bytes = parseV4(s);
  return bytes ? { v6: false, bytes } : undefined;
}

function mask(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & (0xff << (8 - bits)) & 0xff;
  });
}

/**
 * Parses an IP address or CIDR network for a config list. Suitable for
 * `parsed("IP or CIDR", ipNet)`.
 *
 * @example Usage
 * ```ts
 * import { ipNet } from "./ip.ts";
 * const r = ipNet("192.168.1.7/24");
 * if (!r.ok || r.value.bytes.join(".") !== "192.168.1.0" || r.value.prefix !== 24) throw new Error();
 * if (ipNet("not-an-ip").ok) throw new Error();
 * ```
 */
export function ipNet(text: string): Parsed<IpNet> {
  const s = text.trim();
  const slash = s.indexOf("/");
  const addrText = slash >= 0 ? s.slice(0, slash) : s;
  if (/[[\]%]/.test(addrText)) {
    return {
      ok: false,
      message: `IP ${JSON.stringify(text)} is invalid: brackets and zones are not allowed`,
      hint: 'Write the bare address, e.g. "2001:db8::1" or "2001:db8::/32"',
    };
  }
  const addr = parseIp(addrText);
  if (!addr) {
    return {
      ok: false,
      message: `IP ${JSON.stringify(text)} is not an IP address or CIDR network`,
      hint: 'Write an address or a network, e.g. "10.0.0.1", "10.0.0.0/8" or "2001:db8::/32"',
    };
  }
  const max = addr.v6 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      return {
        ok: false,
        message: `Prefix length of ${JSON.stringify(text)} is invalid`,
        hint: `Use a number from 0 to ${max} after "/"`,
      };
    }
    prefix = Number(p);
  }
  return { ok: true, value: { v6: addr.v6, bytes: mask(addr.bytes, prefix), prefix } };
}

function inNet(net: IpNet, bytes: readonly number[]): boolean {
  const full = net.prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== net.bytes[i]) return false;
  const rest = net.prefix & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return ((bytes[full] ?? 0) & m) === net.bytes[full];
}

/**
 * True when `ip` lies in any network of `list`. An address that does not
 * parse matches nothing (use {@linkcode parseIp} first to tell it apart).
 *
 * @example Usage
 * ```ts
 * import { ipInList, ipNet } from "./ip.ts";
 * const list = ["192.168.1.0/24", "2001:db8::/32"].map((s) => {
 *   const r = ipNet(s);
 *   if (!r.ok) throw new Error(r.message);
 *   return r.value;
 * });
 * if (!ipInList(list, "192.168.1.100") || ipInList(list, "2001:db9::1")) throw new Error();
 * ```
 */
export function ipInList(list: readonly IpNet[], ip: string): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  const v4 = !addr.v6 ? addr.bytes : isV4Mapped(addr.bytes) ? addr.bytes.slice(12) : undefined;
  for (const net of list) {
    if (net.v6 ? addr.v6 && inNet(net, addr.bytes) : v4 !== undefined && inNet(net, v4)) return true;
  }
  return false;
}
