/**
 * The Cloudflare provider's requests, checked against a local HTTP
 * receiver that stands in for `api.cloudflare.com` (the real API needs the
 * internet and an account): zone lookup from the longest suffix, TXT
 * record creation, deletion, bearer token, error reporting.
 *
 * @module
 */
import assert from "node:assert/strict";
import { cloudflareProvider } from "./cloudflare.ts";
import { dnsProviderFor } from "./provider.ts";

interface Seen {
  method: string;
  path: string;
  auth: string | null;
  body: unknown;
}

async function withReceiver(fn: (base: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const text = await req.text();
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      auth: req.headers.get("authorization"),
      body: text ? JSON.parse(text) : undefined,
    });
    if (req.headers.get("authorization") !== "Bearer T0K") {
      return Response.json({ success: false, errors: [{ code: 10000, message: "Authentication error" }] }, {
        status: 403,
      });
    }
    if (url.pathname === "/client/v4/zones") {
      const name = url.searchParams.get("name");
      return Response.json({ success: true, result: name === "example.com" ? [{ id: "z1", name }] : [] });
    }
    if (req.method === "POST") return Response.json({ success: true, result: { id: "r9" } });
    return Response.json({ success: true, result: { id: "r9" } });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("cloudflareProvider() finds the zone, creates and deletes the TXT record with the bearer token", async () => {
  await withReceiver(async (base, seen) => {
    const cf = cloudflareProvider(`${base}?token=T0K`, { polls: 0 });
    await cf.setTxt("_acme-challenge.www.example.com", "abc");
    await cf.clearTxt("_acme-challenge.www.example.com", "abc");
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), [
      "GET /client/v4/zones?name=www.example.com",
      "GET /client/v4/zones?name=example.com",
      "POST /client/v4/zones/z1/dns_records",
      "DELETE /client/v4/zones/z1/dns_records/r9",
    ]);
    assert.ok(seen.every((s) => s.auth === "Bearer T0K"));
    assert.deepEqual(seen[2]!.body, { type: "TXT", name: "_acme-challenge.www.example.com", content: "abc", ttl: 60 });
  });
});

Deno.test("cloudflareProvider() reports Cloudflare's error and a missing token", async () => {
  await withReceiver(async (base) => {
    const cf = cloudflareProvider(`${base}?token=wrong`, { polls: 0 });
    await assert.rejects(cf.setTxt("_acme-challenge.example.com", "x"), /HTTP 403: 10000 Authentication error/);
  });
  assert.throws(() => cloudflareProvider("https://api.cloudflare.com"), /needs \?token=/);
});

Deno.test("dnsProviderFor() reads $ENV: URLs and refuses providers it does not implement", () => {
  Deno.env.set("PINGAP_TEST_CF", "https://api.cloudflare.com?token=x");
  try {
    assert.equal(
      dnsProviderFor({ dns_provider: "cloudflare", dns_service_url: "$ENV:PINGAP_TEST_CF" }).name,
      "cloudflare",
    );
  } finally {
    Deno.env.delete("PINGAP_TEST_CF");
  }
  assert.equal(dnsProviderFor({ dns_provider: "manual" }).name, "manual");
  assert.throws(() => dnsProviderFor({ dns_provider: "cloudflare" }), /needs dns_service_url/);
  assert.throws(() => dnsProviderFor({ dns_provider: "route53" as "manual", dns_service_url: "x" }), /not implemented/);
});
