/**
 * The PROXY protocol header (HAProxy's spec, v1 text and v2 binary) a load balancer sends at the start of a
 * connection to name the client it accepted (`proxy_protocol` of a server). {@linkcode parseProxyHeader} reads it
 * from the front of a connection's buffer.
 *
 * @module
 */
import { parseIp } from "../../../compiler/mod.ts";

/** More bytes are needed to tell. */
export const PROXY_INCOMPLETE = 0;

/** A header read: its size, and the client it names (undefined: use the peer — v1 `UNKNOWN`, v2 `LOCAL`). */
export interface ProxyHeader {
  readonly size: number;
  readonly addr: Deno.NetAddr | undefined;
}

/** Longest v1 header, CRLF included (the spec's 107 bytes). */
const V1_MAX = 107;
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** Do `buf[start..end]` match the start of `sig`? */
function startsLike(buf: Uint8Array, start: number, end: number, sig: readonly number[]): boolean {
  const n = Math.min(end - start, sig.length);
  for (let i = 0; i < n; i++) if (buf[start + i] !== sig[i]) return false;
  return true;
}

/**
 * The PROXY header at `buf[start..end]`: the header, {@linkcode PROXY_INCOMPLETE} when more bytes are needed, or why
 * it is not one (a string).
 *
 * @example Usage
 * ```ts
 * import { parseProxyHeader } from "./proxy_header.ts";
 * const b = new TextEncoder().encode("PROXY TCP4 192.0.2.7 10.0.0.1 5555 80\r\nGET / HTTP/1.1\r\n");
 * const h = parseProxyHeader(b, 0, b.byteLength);
 * if (typeof h !== "object" || h.addr?.hostname !== "192.0.2.7" || h.addr.port !== 5555) throw new Error();
 * ```
 */
export function parseProxyHeader(
  buf: Uint8Array,
  start: number,
  end: number,
): ProxyHeader | typeof PROXY_INCOMPLETE | string {
  if (end <= start) return PROXY_INCOMPLETE;
  if (buf[start] === 0x50) {
    if (!startsLike(buf, start, end, V1_PREFIX)) return "not a PROXY protocol header";
    return parseV1(buf, start, end);
  }
  if (buf[start] === 0x0d) {
    if (!startsLike(buf, start, end, V2_SIGNATURE)) return "not a PROXY protocol header";
    return parseV2(buf, start, end);
  }
  return "not a PROXY protocol header";
}

function parseV1(buf: Uint8Array, start: number, end: number): ProxyHeader | typeof PROXY_INCOMPLETE | string {
  const limit = Math.min(end, start + V1_MAX);
  let lf = -1;
  for (let i = start; i < limit; i++) {
    if (buf[i] === 0x0a) {
      lf = i;
      break;
    }
  }
  if (lf < 0) return end - start >= V1_MAX ? "PROXY v1 header longer than 107 bytes" : PROXY_INCOMPLETE;
  if (buf[lf - 1] !== 0x0d) return "PROXY v1 header does not end with CRLF";
  const line = new TextDecoder().decode(buf.subarray(start, lf - 1));
  const size = lf + 1 - start;
  const parts = line.split(" ");
  if (parts[1] === "UNKNOWN") return { size, addr: undefined };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) {
    return `malformed PROXY v1 header "${line}"`;
  }
  const ip = parseIp(parts[2]!);
  const dst = parseIp(parts[3]!);
  const port = portOf(parts[4]!);
  if (ip === undefined || dst === undefined || ip.v6 !== (parts[1] === "TCP6") || port < 0 || portOf(parts[5]!) < 0) {
    return `malformed PROXY v1 header "${line}"`;
  }
  return { size, addr: { transport: "tcp", hostname: parts[2]!, port } };
}

/** A decimal port, or -1. */
function portOf(s: string): number {
  // Plain decimal, no sign and no leading zero (as the spec writes ports).
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

function parseV2(buf: Uint8Array, start: number, end: number): ProxyHeader | typeof PROXY_INCOMPLETE | string {
  if (end - start < 16) return PROXY_INCOMPLETE;
  const verCmd = buf[start + 12]!;
  if (verCmd >> 4 !== 2) return "PROXY v2 header with an unknown version";
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return "PROXY v2 header with an unknown command";
  // The high nibble is the address family; the low one (stream, datagram) does not change the addresses.
  const family = buf[start + 13]! >> 4;
  const length = (buf[start + 14]! << 8) | buf[start + 15]!;
  const size = 16 + length;
  if (end - start < size) return PROXY_INCOMPLETE;
  // LOCAL: the balancer's own connection (a health check); the peer is the client.
  if (cmd === 0) return { size, addr: undefined };
  const a = start + 16;
  if (family === 1) {
    if (length < 12) return "PROXY v2 header too short for IPv4 addresses";
    const hostname = `${buf[a]}.${buf[a + 1]}.${buf[a + 2]}.${buf[a + 3]}`;
    return { size, addr: { transport: "tcp", hostname, port: (buf[a + 8]! << 8) | buf[a + 9]! } };
  }
  if (family === 2) {
    if (length < 36) return "PROXY v2 header too short for IPv6 addresses";
    return { size, addr: { transport: "tcp", hostname: v6Text(buf, a), port: (buf[a + 32]! << 8) | buf[a + 33]! } };
  }
  // UNSPEC and unix sockets carry no IP address: the peer stands.
  if (family === 0 || family === 3) return { size, addr: undefined };
  return "PROXY v2 header with an unknown address family";
}

/** The 16 bytes at `buf[at..]` as an IPv6 address, RFC 5952 style (longest run of zero groups as `::`). */
function v6Text(buf: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((buf[at + 2 * i]! << 8) | buf[at + 2 * i + 1]!);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}
