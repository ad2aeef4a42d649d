/**
 * The Alibaba Cloud DNS provider's requests, checked against a local HTTP
 * receiver that stands in for `alidns.aliyuncs.com` (the real API needs
 * the internet and an account): domain lookup from the longest suffix,
 * AddDomainRecord, DeleteDomainRecord, the common parameters, and the
 * signature, recomputed here with `node:crypto` from the parameters the
 * receiver got. The signing itself is checked against the example of
 * Alibaba Cloud's documentation.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { aliyunProvider, aliyunSignature } from "./aliyun.ts";
import { dnsProviderFor } from "./provider.ts";

// The worked example of "Request signatures" (signature method V2) in Alibaba Cloud's ECS API reference,
// https://www.alibabacloud.com/help/doc-detail/25492.htm: AccessKeySecret "testsecret" and these
// parameters give the signature "OLeaidS1JvxuMvnyHOwuJ+uX5qY=".
Deno.test("aliyunSignature() reproduces the signature of Alibaba Cloud's documented example", async () => {
  const params = {
    Timestamp: "2016-02-23T12:46:24Z",
    Format: "XML",
    AccessKeyId: "testid",
    Action: "DescribeRegions",
    SignatureMethod: "HMAC-SHA1",
    SignatureNonce: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    Version: "2014-05-26",
    SignatureVersion: "1.0",
  };
  assert.equal(await aliyunSignature(params, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  assert.notEqual(await aliyunSignature(params, "other"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
});

/** What the documentation says the signature is, computed without the provider's code. */
function expectedSignature(query: URLSearchParams, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16));
  const pairs = [...query].filter(([k]) => k !== "Signature").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&");
  return createHmac("sha1", `${secret}&`).update(`GET&%2F&${enc(canonical)}`).digest("base64");
}

type Seen = Record<string, string>;

async function withReceiver(fn: (base: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const q = Object.fromEntries(url.searchParams);
    seen.push({ method: req.method, path: url.pathname, ...q });
    if (expectedSignature(url.searchParams, "S3CRET") !== q.Signature) {
      return Response.json({ Code: "SignatureDoesNotMatch", Message: "Specified signature is not matched" }, {
        status: 400,
      });
    }
    if (q.Action === "DescribeDomains") {
      const names = q.KeyWord === "example.com" ? ["example.com", "myexample.com"] : ["a.b.example.com.cn"];
      return Response.json({
        TotalCount: names.length,
        Domains: { Domain: names.map((DomainName) => ({ DomainName })) },
      });
    }
    if (q.Action === "AddDomainRecord") return Response.json({ RequestId: "r", RecordId: "9876" });
    return Response.json({ RequestId: "r", RecordId: q.RecordId });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("aliyunProvider() finds the domain, adds and deletes the TXT record with signed GET requests", async () => {
  await withReceiver(async (base, seen) => {
    const ali = aliyunProvider(`${base}?access_key_id=AK1&access_key_secret=S3CRET`, { polls: 0 });
    await ali.setTxt("_acme-challenge.www.example.com", "v+/=1");
    await ali.clearTxt("_acme-challenge.www.example.com", "v+/=1");
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path} ${s.Action} ${s.KeyWord ?? s.RecordId ?? s.RR}`), [
      "GET / DescribeDomains www.example.com",
      "GET / DescribeDomains example.com",
      "GET / AddDomainRecord _acme-challenge.www",
      "GET / DeleteDomainRecord 9876",
    ]);
    const add = seen[2]!;
    assert.deepEqual(
      [add.DomainName, add.Type, add.Value, add.TTL, add.Format, add.Version, add.AccessKeyId],
      ["example.com", "TXT", "v+/=1", "600", "JSON", "2015-01-09", "AK1"],
    );
    assert.deepEqual([add.SignatureMethod, add.SignatureVersion], ["HMAC-SHA1", "1.0"]);
    assert.match(add.Timestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.notEqual(seen[0]!.SignatureNonce, seen[1]!.SignatureNonce);
  });
});

Deno.test("aliyunProvider() reports Alibaba's error code, an unknown domain and missing keys", async () => {
  await withReceiver(async (base) => {
    const bad = aliyunProvider(`${base}?access_key_id=AK1&access_key_secret=wrong`, { polls: 0 });
    await assert.rejects(bad.setTxt("_acme-challenge.example.com", "x"), /HTTP 400: SignatureDoesNotMatch/);
    const ali = aliyunProvider(`${base}?access_key_id=AK1&access_key_secret=S3CRET`, { polls: 0 });
    await assert.rejects(ali.setTxt("_acme-challenge.example.org", "x"), /no domain of this account holds/);
  });
  assert.throws(() => aliyunProvider("https://alidns.aliyuncs.com?access_key_id=a"), /needs \?access_key_id=/);
  assert.equal(
    dnsProviderFor({
      dns_provider: "ali",
      dns_service_url: "https://alidns.aliyuncs.com?access_key_id=a&access_key_secret=b",
    })
      .name,
    "ali",
  );
});
