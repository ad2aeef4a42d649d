/**
 * `combined_auth` on Pingap's test vectors (`test_combined_auth` in pingap-plugin/src/combined_auth.rs, inventory
 * §11 row 106) and Rust's integer parsing of `ts`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type CombinedAuthPlan, type IpNet, ipNet } from "../../compiler/mod.ts";
import { combinedAuthRefusal, pingapQueryValue } from "./combined_auth_check.ts";

const NOW = 1_765_000_000;

function net(text: string): IpNet {
  const r = ipNet(text);
  assert.ok(r.ok);
  return r.value;
}

const PLAN: CombinedAuthPlan = {
  apps: new Map([
    ["pingap", { secret: "abcd", superUser: false, deviation: 60, ipList: [net("127.0.0.1"), net("192.168.1.0/24")] }],
    ["root", { secret: "*", superUser: true, deviation: 0 }],
    ["any", { secret: "s3cret", superUser: false, deviation: 10 }],
  ]),
};

const digest = (secret: string, ts: string) => createHash("sha256").update(`${secret}:${ts}`).digest("hex");

function check(query: string, ip = "192.168.1.10"): string | undefined {
  return combinedAuthRefusal(PLAN, query, () => ip, NOW);
}

Deno.test("combined_auth: Pingap's test_combined_auth vectors, in its order", () => {
  assert.equal(check(""), "app id is empty");
  assert.equal(check("size=1"), "app id is empty");
  assert.equal(check("app_id=abc"), "app id is invalid");
  assert.equal(check("app_id=pingap", "1.1.1.1"), "ip is invalid");
  assert.equal(check("app_id=pingap"), "timestamp is empty");
  assert.equal(check("app_id=pingap&ts=123"), "timestamp deviation is invalid");
  assert.equal(check(`app_id=pingap&ts=${NOW}`), "digest is empty");
  assert.equal(check(`app_id=pingap&ts=${NOW}&digest=abc`), "digest is invalid");
  assert.equal(check(`app_id=pingap&ts=${NOW}&digest=${digest("abcd", String(NOW))}`), undefined);
});

Deno.test("combined_auth: deviation both ways, upper-case digest, super user, no ip_list", () => {
  const ok = (ts: number) => `app_id=any&ts=${ts}&digest=${digest("s3cret", String(ts))}`;
  assert.equal(check(ok(NOW - 10)), undefined);
  assert.equal(check(ok(NOW + 10)), undefined);
  assert.equal(check(ok(NOW - 11)), "timestamp deviation is invalid");
  assert.equal(check(ok(NOW + 11)), "timestamp deviation is invalid");
  assert.equal(check(`app_id=any&ts=${NOW}&digest=${digest("s3cret", String(NOW)).toUpperCase()}`), undefined);
  assert.equal(check("app_id=root", "8.8.8.8"), undefined);
  assert.equal(check(ok(NOW), "8.8.8.8"), undefined, "no ip_list: any client");
});

Deno.test("combined_auth: ts is read as Rust reads an i64", () => {
  assert.equal(check("app_id=any&ts=12a"), "invalid digit found in string");
  assert.equal(check("app_id=any&ts=-"), "invalid digit found in string");
  assert.equal(check("app_id=any&ts=99999999999999999999"), "number too large to fit in target type");
  assert.equal(check("app_id=any&ts=-99999999999999999999"), "number too small to fit in target type");
  const plus = `+${NOW}`;
  assert.equal(check(`app_id=any&ts=${plus}&digest=${digest("s3cret", plus)}`), undefined, "signed as written");
});

Deno.test("combined_auth: query values as Pingap reads them (first pair with '=', trimmed, not decoded)", () => {
  assert.equal(pingapQueryValue("app_id&app_id=b", "app_id"), "b");
  assert.equal(pingapQueryValue("x=1&app_id=%20a", "app_id"), "%20a");
  assert.equal(pingapQueryValue("app_idx=1", "app_id"), undefined);
  assert.equal(pingapQueryValue("app_id=", "app_id"), "");
});

Deno.test("combined_auth: query scanning at the edges", () => {
  assert.equal(pingapQueryValue("", "a"), undefined);
  assert.equal(pingapQueryValue("&&a=1&", "a"), "1");
  assert.equal(pingapQueryValue("b=1&a= 2 ", "a"), "2");
  assert.equal(pingapQueryValue("b=a=1", "a"), undefined);
  assert.equal(pingapQueryValue("a", "a"), undefined);
});
