import assert from "node:assert/strict";
import { parseProxyHeader, PROXY_INCOMPLETE } from "./proxy_header.ts";

const enc = new TextEncoder();
const parse = (b: Uint8Array | string) => {
  const bytes = typeof b === "string" ? enc.encode(b) : b;
  return parseProxyHeader(bytes, 0, bytes.byteLength);
};
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

Deno.test("PROXY v1: addresses, UNKNOWN, partial and malformed headers", () => {
  assert.deepEqual(parse("PROXY TCP4 192.0.2.7 10.0.0.1 5555 80\r\nGET"), {
    size: 39,
    addr: { transport: "tcp", hostname: "192.0.2.7", port: 5555 },
  });
  assert.deepEqual(parse("PROXY UNKNOWN\r\n"), { size: 15, addr: undefined });
  assert.equal(parse("PROX"), PROXY_INCOMPLETE);
  assert.equal(parse("PROXY TCP4 192.0.2.7 10.0.0.1 55"), PROXY_INCOMPLETE);
  assert.match(String(parse(`PROXY TCP4 ${"1".repeat(110)}`)), /longer than 107/);
  assert.match(String(parse("PROXY TCP4 ::1 ::1 1 2\r\n")), /malformed/);
  assert.match(String(parse("PROXY TCP4 1.2.3.4 1.2.3.4 70000 2\r\n")), /malformed/);
  assert.match(String(parse("PROXY TCP4 1.2.3.4 1.2.3.4 0443 2\r\n")), /malformed/);
  assert.match(String(parse("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n")), /CRLF/);
  assert.match(String(parse("GET / HTTP/1.1\r\n")), /not a PROXY/);
  assert.match(String(parse("PROXZ")), /not a PROXY/);
});

Deno.test("PROXY v2: IPv4, IPv6, LOCAL, partial and malformed headers", () => {
  const v4 = new Uint8Array([...SIG, 0x21, 0x11, 0, 12, 198, 51, 100, 4, 10, 0, 0, 1, 0x17, 0x70, 0, 80, 0x47]);
  assert.deepEqual(parse(v4), { size: 28, addr: { transport: "tcp", hostname: "198.51.100.4", port: 6000 } });
  assert.equal(parse(v4.subarray(0, 20)), PROXY_INCOMPLETE);
  assert.equal(parse(v4.subarray(0, 5)), PROXY_INCOMPLETE);
  const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 5];
  const v6 = new Uint8Array([...SIG, 0x21, 0x21, 0, 36, ...src, ...new Array(16).fill(0), 0, 1, 0, 2]);
  assert.deepEqual(parse(v6), { size: 52, addr: { transport: "tcp", hostname: "2001:db8::1:0:0:5", port: 1 } });
  assert.deepEqual(parse(new Uint8Array([...SIG, 0x20, 0x00, 0, 0])), { size: 16, addr: undefined });
  assert.match(String(parse(new Uint8Array([...SIG, 0x11, 0x11, 0, 0]))), /unknown version/);
  assert.match(String(parse(new Uint8Array([...SIG, 0x21, 0x41, 0, 0]))), /unknown address family/);
  assert.match(String(parse(new Uint8Array([...SIG, 0x21, 0x11, 0, 4, 1, 2, 3, 4]))), /too short/);
  assert.match(String(parse(new Uint8Array([...SIG.slice(0, 6), 0]))), /not a PROXY/);
});
