/**
 * The Tencent Cloud DNSPod provider's requests, checked against a local
 * HTTP receiver that stands in for `dnspod.tencentcloudapi.com` (the real
 * API needs the internet and an account): domain lookup from the longest
 * suffix, CreateRecord, DeleteRecord, the X-TC-* headers, the JSON bodies,
 * and the TC3-HMAC-SHA256 `Authorization`, recomputed here with
 * `node:crypto` from what the receiver got, following the steps of
 * https://intl.cloud.tencent.com/document/api/1021/34193 (its worked example
 * shows the SecretKey masked, so it cannot serve as a vector).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { dnsProviderFor } from "./provider.ts";
import { tc3Authorization, tencentProvider } from "./tencent.ts";

/** TC3-HMAC-SHA256 as the documentation describes it, without the provider's code. */
function expectedAuthorization(id: string, secret: string, req: { host: string; ts: string; body: string }): string {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const mac = (k: string | Buffer, s: string) => createHmac("sha256", k).update(s).digest();
  const date = new Date(Number(req.ts) * 1000).toISOString().slice(0, 10);
  const canonical = [
    "POST",
    "/",
    "",
    `content-type:application/json; charset=utf-8\nhost:${req.host}\n`,
    "content-type;host",
    sha(req.body),
  ].join("\n");
  const scope = `${date}/dnspod/tc3_request`;
  const sts = ["TC3-HMAC-SHA256", req.ts, scope, sha(canonical)].join("\n");
  const key = mac(mac(mac(`TC3${secret}`, date), "dnspod"), "tc3_request");
  return `TC3-HMAC-SHA256 Credential=${id}/${scope}, SignedHeaders=content-type;host, Signature=${
    createHmac("sha256", key).update(sts).digest("hex")
  }`;
}

Deno.test("tc3Authorization() matches an independent computation and depends on every input", async () => {
  const r = { secretId: "AKIDx", secretKey: "k3y", host: "dnspod.tencentcloudapi.com", service: "dnspod" };
  const body = '{"Domain":"example.com"}';
  const got = await tc3Authorization({ ...r, payload: body, timestamp: 1551113065 });
  assert.equal(got, expectedAuthorization("AKIDx", "k3y", { host: r.host, ts: "1551113065", body }));
  assert.match(got, /Credential=AKIDx\/2019-02-25\/dnspod\/tc3_request, SignedHeaders=content-type;host, /);
  assert.notEqual(got, await tc3Authorization({ ...r, payload: body + " ", timestamp: 1551113065 }));
  assert.notEqual(got, await tc3Authorization({ ...r, payload: body, timestamp: 1551113066 }));
});

interface Seen {
  action: string | null;
  version: string | null;
  method: string;
  path: string;
  body: Record<string, unknown>;
}

async function withReceiver(fn: (base: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const text = await req.text();
    const h = req.headers;
    const action = h.get("x-tc-action");
    seen.push({
      action,
      version: h.get("x-tc-version"),
      method: req.method,
      path: new URL(req.url).pathname,
      body: JSON.parse(text),
    });
    const want = expectedAuthorization("AKID1", "S3CRET", {
      host: h.get("host")!,
      ts: h.get("x-tc-timestamp")!,
      body: text,
    });
    if (h.get("authorization") !== want || h.get("content-type") !== "application/json; charset=utf-8") {
      return Response.json({
        Response: { Error: { Code: "AuthFailure.SignatureFailure", Message: "bad" }, RequestId: "r" },
      });
    }
    if (action === "DescribeDomainList") {
      if (JSON.parse(text).Keyword !== "example.com") {
        return Response.json({ Response: { Error: { Code: "ResourceNotFound.NoDataOfDomain", Message: "none" } } });
      }
      return Response.json({ Response: { DomainList: [{ Name: "example.com" }, { Name: "my-example.com" }] } });
    }
    if (action === "CreateRecord") return Response.json({ Response: { RecordId: 162, RequestId: "r" } });
    return Response.json({ Response: { RequestId: "r" } });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("tencentProvider() finds the domain, creates and deletes the TXT record with signed POSTs", async () => {
  await withReceiver(async (base, seen) => {
    const tc = tencentProvider(`${base}?access_key_id=AKID1&access_key_secret=S3CRET`, { polls: 0 });
    await tc.setTxt("_acme-challenge.www.example.com", "abc");
    await tc.clearTxt("_acme-challenge.www.example.com", "abc");
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path} ${s.action} ${s.version}`), [
      "POST / DescribeDomainList 2021-03-23",
      "POST / DescribeDomainList 2021-03-23",
      "POST / CreateRecord 2021-03-23",
      "POST / DeleteRecord 2021-03-23",
    ]);
    assert.deepEqual(seen.map((s) => s.body.Keyword).slice(0, 2), ["www.example.com", "example.com"]);
    assert.deepEqual(seen[2]!.body, {
      Domain: "example.com",
      SubDomain: "_acme-challenge.www",
      RecordType: "TXT",
      RecordLine: "默认",
      Value: "abc",
      TTL: 600,
    });
    assert.deepEqual(seen[3]!.body, { Domain: "example.com", RecordId: 162 });
  });
});

Deno.test("tencentProvider() reports Tencent's error code, an unknown domain and missing keys", async () => {
  await withReceiver(async (base) => {
    const bad = tencentProvider(`${base}?access_key_id=AKID1&access_key_secret=wrong`, { polls: 0 });
    await assert.rejects(bad.setTxt("_acme-challenge.example.com", "x"), /HTTP 200: AuthFailure.SignatureFailure/);
    const tc = tencentProvider(`${base}?access_key_id=AKID1&access_key_secret=S3CRET`, { polls: 0 });
    await assert.rejects(tc.setTxt("_acme-challenge.example.org", "x"), /no domain of this account holds/);
  });
  assert.throws(() => tencentProvider("https://dnspod.tencentcloudapi.com"), /needs \?access_key_id=/);
  const url = "https://dnspod.tencentcloudapi.com?access_key_id=a&access_key_secret=b";
  assert.equal(dnsProviderFor({ dns_provider: "tencent", dns_service_url: url }).name, "tencent");
});
