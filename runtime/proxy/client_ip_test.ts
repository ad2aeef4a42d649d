import assert from "node:assert/strict";
import { type IpNet, ipNet } from "../../compiler/mod.ts";
import { resolveClientIp } from "./client_ip.ts";

function nets(...list: string[]): IpNet[] {
  return list.map((s) => {
    const r = ipNet(s);
    assert.ok(r.ok, s);
    return r.value;
  });
}

function headers(fields: Record<string, string>): (name: string) => string | null {
  return (name) => fields[name] ?? null;
}

const TRUSTED = nets("10.0.0.0/8", "::1");

Deno.test("resolveClientIp: without trusted proxies the peer is the client, whatever the headers say", () => {
  const h = headers({ "x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8" });
  assert.equal(resolveClientIp("203.0.113.9", undefined, h), "203.0.113.9");
  assert.equal(resolveClientIp("203.0.113.9", [], h), "203.0.113.9");
});

Deno.test("resolveClientIp: nothing is read or parsed without a list", () => {
  let reads = 0;
  resolveClientIp("10.0.0.1", undefined, () => {
    reads++;
    return "1.2.3.4";
  });
  assert.equal(reads, 0);
});

Deno.test("resolveClientIp: an untrusted peer's headers are ignored", () => {
  const h = headers({ "x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8" });
  assert.equal(resolveClientIp("203.0.113.9", TRUSTED, h), "203.0.113.9");
  assert.equal(resolveClientIp("203.0.113.9", TRUSTED, headers({ "x-real-ip": "5.6.7.8" })), "203.0.113.9");
});

Deno.test("resolveClientIp: a trusted peer's X-Forwarded-For is walked right to left, skipping trusted hops", () => {
  const cases: [string, string][] = [
    ["1.2.3.4", "1.2.3.4"],
    [" 1.2.3.4 ", "1.2.3.4"],
    ["6.6.6.6, 1.2.3.4", "1.2.3.4"],
    ["6.6.6.6, 1.2.3.4, 10.1.1.1, 10.2.2.2", "1.2.3.4"],
    ["10.1.1.1, 10.2.2.2", "10.1.1.1"], // all trusted: the leftmost
    ["1.2.3.4,,10.1.1.1, ", "1.2.3.4"], // empty entries skipped
    ["6.6.6.6, nonsense, 10.1.1.1", "10.1.1.1"], // not an address: stop at the last trusted hop
    ["nonsense", "10.0.0.1"],
    ["1.2.3.4:80", "10.0.0.1"],
    ["2001:db8::7, ::1", "2001:db8::7"],
    [",", "10.0.0.1"],
  ];
  for (const [xff, want] of cases) {
    assert.equal(resolveClientIp("10.0.0.1", TRUSTED, headers({ "x-forwarded-for": xff })), want, xff);
  }
  // IPv4-mapped peers count as their IPv4 address.
  assert.equal(resolveClientIp("::ffff:10.0.0.1", TRUSTED, headers({ "x-forwarded-for": "1.2.3.4" })), "1.2.3.4");
});

Deno.test("resolveClientIp: a trusted peer's X-Real-IP counts when there is no X-Forwarded-For and it is an address", () => {
  assert.equal(resolveClientIp("10.0.0.1", TRUSTED, headers({ "x-real-ip": " 5.6.7.8 " })), "5.6.7.8");
  assert.equal(resolveClientIp("10.0.0.1", TRUSTED, headers({ "x-real-ip": "not-an-ip" })), "10.0.0.1");
  assert.equal(resolveClientIp("10.0.0.1", TRUSTED, headers({ "x-real-ip": "" })), "10.0.0.1");
  const both = headers({ "x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8" });
  assert.equal(resolveClientIp("10.0.0.1", TRUSTED, both), "1.2.3.4", "X-Forwarded-For first");
  assert.equal(resolveClientIp("10.0.0.1", TRUSTED, headers({})), "10.0.0.1");
});
