/**
 * Unit tests of the ACME pieces that need no CA: renewal timing, stored
 * records, storage, and the http-01 answers through a real proxy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseStored, renewalReason, renewAt, type StoredCertificate } from "./renew.ts";
import { acmeStorageFor, fileStorage } from "./storage.ts";
import { startTestProxy } from "../../tests/_support/proxy.ts";
import { ChallengeTokens } from "./challenges.ts";

const DAY = 86_400_000;
const stored: StoredCertificate = {
  domains: ["a.test", "b.test"],
  directory: "https://ca/dir",
  cert: "C",
  key: "K",
  notBefore: 0,
  notAfter: 90 * DAY,
  issuedAt: 0,
};
const wanted = { domains: ["b.test", "A.test"], directory: "https://ca/dir", bufferDays: 0 };

Deno.test("renewAt() is a third of the lifetime before expiry, or buffer_days", () => {
  assert.equal(renewAt(stored, 0), 60 * DAY);
  assert.equal(renewAt(stored, 2), 88 * DAY);
});

Deno.test("renewalReason() orders when nothing is stored, domains or CA changed, or renewal is due", () => {
  assert.equal(renewalReason(stored, wanted, 60 * DAY - 1), undefined);
  assert.match(renewalReason(stored, wanted, 60 * DAY)!, /renewal due/);
  assert.match(renewalReason(undefined, wanted, 0)!, /no certificate stored/);
  assert.match(renewalReason(stored, { ...wanted, domains: ["a.test"] }, 0)!, /domains changed/);
  assert.match(renewalReason(stored, { ...wanted, directory: "https://other/dir" }, 0)!, /directory changed/);
});

Deno.test("parseStored() accepts its own records only", () => {
  assert.deepEqual(parseStored(JSON.stringify(stored)), stored);
  assert.equal(parseStored("{}"), undefined);
  assert.equal(parseStored("not json"), undefined);
  assert.equal(parseStored(undefined), undefined);
});

Deno.test("acmeStorageFor() keeps state beside the config; fileStorage() round-trips privately", async () => {
  assert.equal(acmeStorageFor("conf/pingap.toml").where, "conf/pingap-acme");
  assert.equal(acmeStorageFor("/etc/pingap/").where, "/etc/pingap-acme");
  assert.match(acmeStorageFor("etcd://127.0.0.1:2379/pingap").where, /keys \/pingap-acme\/$/);
  assert.throws(() => acmeStorageFor("etcd://127.0.0.1:2379/"), /base path/);
  const dir = await Deno.makeTempDir();
  try {
    const s = fileStorage(`${dir}/acme`);
    assert.equal(await s.get("certificates/x.json"), undefined);
    await s.put("certificates/x.json", "v1");
    await s.put("certificates/x.json", "v2");
    assert.equal(await s.get("certificates/x.json"), "v2");
    assert.equal((await Deno.stat(`${dir}/acme/certificates/x.json`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ChallengeTokens.answer() answers registered tokens only", async () => {
  const tokens = new ChallengeTokens();
  await tokens.add("t0k", "t0k.print");
  assert.equal(tokens.pending(), 1);
  assert.equal(await tokens.answer("/.well-known/acme-challenge/t0k")?.text(), "t0k.print");
  assert.equal(tokens.answer("/.well-known/acme-challenge/other"), undefined);
  assert.equal(tokens.answer("/t0k"), undefined);
  await tokens.remove("t0k");
  assert.equal(tokens.answer("/.well-known/acme-challenge/t0k"), undefined);
});

Deno.test("the proxy answers a pending token before routing; other tokens reach the locations", async () => {
  const proxy = await startTestProxy(`
[servers.web]
addr = "127.0.0.1:0"
locations = ["mock"]
[locations.mock]
path = "/"
plugins = ["m"]
[plugins.m]
category = "mock"
status = 418
data = "from the location"
`);
  const tokens = proxy.proxy.challenges;
  await tokens.add("p1", "p1.key");
  try {
    const hit = await fetch(`${proxy.url}/.well-known/acme-challenge/p1`);
    assert.equal(hit.status, 200);
    assert.equal(await hit.text(), "p1.key");
    const miss = await fetch(`${proxy.url}/.well-known/acme-challenge/nope`);
    assert.equal(miss.status, 418);
    assert.equal(await miss.text(), "from the location");
  } finally {
    await tokens.remove("p1");
    await proxy.close();
  }
});
