/**
 * The Huawei Cloud DNS provider's requests, checked against a local HTTP
 * receiver that stands in for `dns.<region>.myhuaweicloud.com` (the real
 * API needs the internet and an account): zone lookup from the longest
 * suffix, record set creation and deletion, and the SDK-HMAC-SHA256
 * `Authorization`, recomputed here with `node:crypto` from what the
 * receiver got. The canonical request is checked against the worked
 * example of Huawei's signing guide.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { huaweiAuthorization, huaweiCanonicalRequest, huaweiProvider } from "./huawei.ts";
import { dnsProviderFor } from "./provider.ts";

// The VPC query example of Huawei's API request signing guide,
// https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-002.html (the request) and
// https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-003.html (its string to sign:
// "SDK-HMAC-SHA256 20191115T033655Z b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a").
Deno.test("huaweiCanonicalRequest() hashes to the value of Huawei's documented example", async () => {
  const example = {
    method: "GET",
    path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
    query: [["marker", "13551d6b-755d-4757-b956-536f674975c0"], ["limit", "2"]] as const,
    headers: {
      "content-type": "application/json",
      host: "service.region.example.com",
      "x-sdk-date": "20191115T033655Z",
    },
    body: "",
  };
  const canonical = await huaweiCanonicalRequest(example);
  assert.equal(
    createHash("sha256").update(canonical).digest("hex"),
    "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a",
  );
  assert.match(canonical, /^GET\n\/v1\/77b6a44cba5143ab91d13ab9a8ff44fd\/vpcs\/\nlimit=2&marker=/);
});

/** SDK-HMAC-SHA256 as the guide describes it, without the provider's code. */
function expectedAuthorization(req: Request, body: string): string {
  const u = new URL(req.url);
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const query = [...u.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort();
  const h = (n: string) => `${n}:${req.headers.get(n)}\n`;
  const canonical = [
    req.method,
    u.pathname.endsWith("/") ? u.pathname : `${u.pathname}/`,
    query.join("&"),
    h("content-type") + h("host") + h("x-sdk-date"),
    "content-type;host;x-sdk-date",
    sha(body),
  ].join("\n");
  const sts = `SDK-HMAC-SHA256\n${req.headers.get("x-sdk-date")}\n${sha(canonical)}`;
  const signature = createHmac("sha256", "S3CRET").update(sts).digest("hex");
  return `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=content-type;host;x-sdk-date, Signature=${signature}`;
}

interface Seen {
  line: string;
  body: unknown;
}

async function withReceiver(fn: (base: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const u = new URL(req.url);
    const text = await req.text();
    seen.push({ line: `${req.method} ${u.pathname}${u.search}`, body: text ? JSON.parse(text) : undefined });
    if (req.headers.get("authorization") !== expectedAuthorization(req, text)) {
      return Response.json({ code: "APIGW.0301", message: "Incorrect IAM authentication information" }, {
        status: 401,
      });
    }
    if (u.pathname === "/v2/zones") {
      const name = u.searchParams.get("name");
      // the name filter is fuzzy: a longer zone that merely contains the name comes back too
      const zones = name === "example.com"
        ? [{ id: "zz-1", name: "myexample.com." }, { id: "z-1", name: "example.com." }]
        : [];
      return Response.json({ zones });
    }
    if (req.method === "POST") {
      return Response.json({ id: "rs-7", name: "x", status: "PENDING_CREATE" }, { status: 202 });
    }
    return Response.json({ id: "rs-7", status: "PENDING_DELETE" }, { status: 202 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("huaweiProvider() finds the zone, creates and deletes the TXT record set with signed requests", async () => {
  await withReceiver(async (base, seen) => {
    const hw = huaweiProvider(`${base}?access_key_id=AK1&access_key_secret=S3CRET`, { polls: 0 });
    await hw.setTxt("_acme-challenge.www.example.com", "abc");
    await hw.clearTxt("_acme-challenge.www.example.com", "abc");
    assert.deepEqual(seen.map((s) => s.line), [
      "GET /v2/zones?name=www.example.com&type=public",
      "GET /v2/zones?name=example.com&type=public",
      "POST /v2/zones/z-1/recordsets",
      "DELETE /v2/zones/z-1/recordsets/rs-7",
    ]);
    assert.deepEqual(seen[2]!.body, {
      name: "_acme-challenge.www.example.com.",
      type: "TXT",
      ttl: 300,
      records: ['"abc"'],
    });
  });
});

Deno.test("huaweiProvider() reports Huawei's error, an unknown zone and missing keys", async () => {
  await withReceiver(async (base) => {
    const bad = huaweiProvider(`${base}?access_key_id=AK1&access_key_secret=wrong`, { polls: 0 });
    await assert.rejects(bad.setTxt("_acme-challenge.example.com", "x"), /HTTP 401: APIGW.0301 Incorrect IAM/);
    const hw = huaweiProvider(`${base}?access_key_id=AK1&access_key_secret=S3CRET`, { polls: 0 });
    await assert.rejects(hw.setTxt("_acme-challenge.example.org", "x"), /no public zone of this account holds/);
  });
  assert.throws(() => huaweiProvider("https://dns.cn-north-4.myhuaweicloud.com"), /needs \?access_key_id=/);
  const url = "https://dns.cn-north-4.myhuaweicloud.com?access_key_id=a&access_key_secret=b";
  assert.equal(dnsProviderFor({ dns_provider: "huawei", dns_service_url: url }).name, "huawei");
});

Deno.test("huaweiAuthorization() names the signed headers and changes with the body", async () => {
  const r = { method: "POST", path: "/v2/zones/z/recordsets", query: [], body: "{}" };
  const headers = { "x-sdk-date": "20240101T000000Z", host: "h", "content-type": "application/json" };
  const a = await huaweiAuthorization({ ...r, headers }, "AK", "SK");
  assert.match(a, /^SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature=[0-9a-f]{64}$/);
  assert.notEqual(a, await huaweiAuthorization({ ...r, body: "{ }", headers }, "AK", "SK"));
});
