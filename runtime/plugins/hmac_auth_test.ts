/**
 * `hmac_auth`'s decision without sockets, on Pingap's vectors 140 and 141: keys `app1:s3cret` and `app2:a:b` (a
 * secret with a colon), the signed text of `GET /api/users?page=2` over host and date at 1791532800, valid from −300 s
 * to +300 s; any other path, query, method, host, key id or secret is `Signature invalid`.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { compileSources, type HmacAuthPlan } from "../../compiler/mod.ts";
import {
  checkSignedRequest,
  declaredLength,
  parseRequestTime,
  type SignedRequest,
  verifySignedRequest,
} from "./hmac_auth.ts";
import { checkBodyDigest, parseBodyDigest } from "./body_digest.ts";
import { createHash } from "node:crypto";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";

const DATE_TEXT = "Fri, 09 Oct 2026 08:00:00 GMT";
const DATE_SEC = 1791532800;

function plan(extra = ""): HmacAuthPlan {
  const { plan, diagnostics } = compileSources([{
    file: "a.toml",
    text: `[plugins.h]\ncategory = "hmac_auth"\nkeys = ["app1:s3cret", "app2:a:b"]\n${extra}`,
  }]);
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);
  return plan!.plugins.find((p) => p.name === "h")!.config as HmacAuthPlan;
}

const sign = (secret: string, text: string, hash = "sha256") => createHmac(hash, secret).update(text).digest("base64");

function request(target: string, headers: Record<string, string>, method = "GET"): SignedRequest {
  return { method, target, header: (name) => headers[name] ?? null };
}

function signed(signature: string, over = "(request-target) host date", key = "app1", algorithm = "hmac-sha256") {
  return `Signature keyId="${key}",algorithm="${algorithm}",headers="${over}",signature="${signature}"`;
}

Deno.test("hmac_auth: Pingap's vectors 140 and 141", () => {
  const p = plan();
  assert.deepEqual(p.signedHeaders, ["host", "date"]);
  assert.equal(p.clockSkew, 300);
  assert.equal(p.keys.get("app2"), "a:b");
  assert.equal(p.challenge, 'Signature realm="pingap",headers="(request-target) host date"');
  const text = `(request-target): get /api/users?page=2\nhost: api.test\ndate: ${DATE_TEXT}`;
  const good = signed(sign("s3cret", text));
  const headers = { host: "api.test", date: DATE_TEXT, authorization: good };
  const req = request("/api/users?page=2", headers);
  assert.equal(checkSignedRequest(req, p, DATE_SEC + 10), undefined);
  assert.equal(checkSignedRequest(req, p, DATE_SEC - 300), undefined);
  assert.equal(checkSignedRequest(req, p, DATE_SEC + 301), "The date of the request is too far from now");
  assert.equal(checkSignedRequest(req, p, DATE_SEC - 301), "The date of the request is too far from now");
  for (
    const other of [
      request("/api/admin?page=2", headers),
      request("/api/users?page=3", headers),
      request("/api/users", headers),
      request("/api/users?page=2", headers, "DELETE"),
      request("/api/users?page=2", { ...headers, host: "other.test" }),
      request("/api/users?page=2", { ...headers, authorization: good.replace("app1", "app9") }),
      request("/api/users?page=2", { ...headers, authorization: signed(sign("guess", text)) }),
    ]
  ) assert.equal(checkSignedRequest(other, p, DATE_SEC), "Signature invalid");
  // app2's secret holds a colon.
  assert.equal(
    checkSignedRequest(
      request("/api/users?page=2", { ...headers, authorization: signed(sign("a:b", text), undefined, "app2") }),
      p,
      DATE_SEC,
    ),
    undefined,
  );
});

Deno.test("hmac_auth: each refusal in Pingap's order and words", () => {
  const p = plan();
  const text = `(request-target): get /api/users?page=2\nhost: api.test\ndate: ${DATE_TEXT}`;
  const base = { host: "api.test", date: DATE_TEXT };
  const check = (authorization: string | undefined, extra: Record<string, string> = {}) =>
    checkSignedRequest(
      request("/api/users?page=2", { ...base, ...extra, ...(authorization ? { authorization } : {}) }),
      p,
      DATE_SEC,
    );
  assert.equal(check(undefined), "Signature missing");
  assert.equal(check("Bearer abc"), "Signature missing");
  assert.equal(check('Signature keyId=app1,signature="s"'), "Signature missing");
  assert.equal(check(signed("x", "host date")), "Signature should cover (request-target)");
  assert.equal(check(signed("x", "(request-target) date")), "Signature does not cover a required header");
  assert.equal(check(signed("x", "(request-target) host")), "Signature does not cover a required header");
  assert.equal(
    check(signed("x", "(request-target) host date x-tenant")),
    "A signed header is not in the request, or is not text",
  );
  assert.equal(check(signed("x"), { date: "yesterday" }), "The date of the request is not a date");
  assert.equal(
    check(signed(sign("s3cret", text), undefined, "app1", "rsa-sha256")),
    "Signature algorithm is not supported",
  );
  // sha-512, and x-date (unix seconds) standing in for date: the signed one counts.
  const xText = `(request-target): post /orders\nhost: api.test\nx-date: ${DATE_SEC}`;
  const x = request("/orders", {
    host: "api.test",
    "x-date": String(DATE_SEC),
    date: "Thu, 01 Jan 1970 00:00:00 GMT",
    authorization: signed(sign("s3cret", xText, "sha512"), "(request-target) host x-date", "app1", "hmac-sha512"),
  }, "POST");
  assert.equal(checkSignedRequest(x, p, DATE_SEC + 60), undefined);
  assert.equal(checkSignedRequest(x, p, DATE_SEC + 3600), "The date of the request is too far from now");
});

Deno.test("hmac_auth: dates as Pingap reads them", () => {
  assert.equal(parseRequestTime(DATE_TEXT), DATE_SEC);
  assert.equal(parseRequestTime("9 Oct 2026 10:00:00 +0200"), DATE_SEC);
  assert.equal(parseRequestTime("Fri, 09 Oct 2026 04:00:00 EDT"), DATE_SEC);
  assert.equal(parseRequestTime(" 1791532800 "), DATE_SEC);
  for (const bad of ["yesterday", "2026-10-09T08:00:00Z", "Fri, 31 Feb 2026 08:00:00 GMT", "09 Oct 2026 25:00 GMT"]) {
    assert.equal(parseRequestTime(bad), undefined, bad);
  }
});

Deno.test("hmac_auth: bad config is a check error at its key, secrets never quoted", () => {
  const errs = (text: string) =>
    compileSources([{ file: "a.toml", text: `[plugins.h]\ncategory = "hmac_auth"\n${text}` }]).diagnostics
      .filter((d) => d.severity === "error").map((d) => [d.path.join("."), d.message, d.hint ?? ""]);
  for (
    const [text, path, message] of [
      ['keys = ["nocolon"]', "plugins.h.keys.0", /key_id:secret/],
      ['keys = [":secret"]', "plugins.h.keys.0", /key_id:secret/],
      ['keys = ["id:"]', "plugins.h.keys.0", /key_id:secret/],
      ['keys = ["a:1", "a:2"]', "plugins.h.keys.1", /two keys for "a"/],
      ['keys = ["a:1"]\nsigned_headers = ["x y"]', "plugins.h.signed_headers.0", /is not a header name/],
      ['keys = ["a:1"]\nclock_skew = "500ms"', "plugins.h.clock_skew", /at least 1s/],
      ["", "plugins.h.keys", /./],
    ] as const
  ) {
    const found = errs(text);
    assert.equal(found.length, 1, `${text}: ${JSON.stringify(found)}`);
    assert.equal(found[0]![0], path, text);
    assert.match(found[0]![1]!, message, text);
    assert.doesNotMatch(found[0]!.join(" "), /nocolon|secret"|:1|:2/, "the secret is not quoted");
  }
  const p = plan('signed_headers = ["Host", "(request-target)", "X-Tenant", "host"]\nclock_skew = "30s"');
  assert.deepEqual(p.signedHeaders, ["host", "x-tenant"]);
  assert.equal(p.clockSkew, 30);
});

Deno.test("hmac_auth: the signed body digest and the declared length", async () => {
  const p = plan('signed_headers = ["host", "date", "content-digest"]');
  const body = new TextEncoder().encode("hello world");
  const b64 = createHash("sha256").update(body).digest("base64");
  const text = `(request-target): post /orders\nhost: api.test\ndate: ${DATE_TEXT}\ncontent-digest: sha-256=:${b64}:`;
  const r = verifySignedRequest(
    request("/orders", {
      host: "api.test",
      date: DATE_TEXT,
      "content-digest": `sha-256=:${b64}:`,
      authorization: signed(sign("s3cret", text), "(request-target) host date content-digest"),
    }, "POST"),
    p,
    DATE_SEC,
  );
  assert.ok(r.ok && r.digest?.algorithm === "sha256" && r.digest.base64 === b64, JSON.stringify(r));
  const digest = parseBodyDigest(`sha-256=:${b64}:`)!;
  const read = async (chunks: string[], length: number) => {
    const stream = ReadableStream.from(chunks.map((c) => new TextEncoder().encode(c) as Uint8Array<ArrayBuffer>));
    let out = "";
    try {
      for await (const chunk of checkBodyDigest(stream, digest, length)) out += new TextDecoder().decode(chunk);
      return out;
    } catch (e) {
      return `${out}error ${(e as { status?: number }).status}`;
    }
  };
  assert.equal(await read(["hello ", "world"], 11), "hello world");
  assert.equal(await read(["hello ", "worle"], 11), "hello error 401", "the last chunk is held back");
  assert.equal(await read(["hello ", "world!"], 11), "hello error 401", "longer than said");
  assert.equal(await read(["hello"], 11), "helloerror 401", "shorter than said");
  const h = (headers: Record<string, string>) => (name: string) => headers[name] ?? null;
  assert.equal(declaredLength(h({ "content-length": "11" }), true), 11);
  assert.equal(declaredLength(h({ "transfer-encoding": "chunked" }), true), undefined);
  assert.equal(declaredLength(h({}), true), undefined);
  assert.equal(declaredLength(h({}), false), 0);
});

const harnessPlan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["h"]
[plugins.h]
category = "hmac_auth"
keys = ["app1:s3cret"]
signed_headers = ["host", "date", "content-digest"]
validate_body = true
hide_credentials = true
`);

Deno.test("hmac_auth through a compiled Plan: a signed request passes without its signature, others are 401", async () => {
  const bodies: string[] = [];
  const upstream = async (req: Request) => {
    bodies.push(await req.text());
    return echo(req);
  };
  const h = planHarness(harnessPlan, { upstream });
  try {
    const date = new Date().toUTCString();
    const body = "hello world";
    const digest = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
    const text = `(request-target): post /api/orders?x=1\nhost: api.test\ndate: ${date}\ncontent-digest: ${digest}`;
    const over = "(request-target) host date content-digest";
    const send = (authorization: string | undefined, sent = body) =>
      h.request("http://api.test/api/orders?x=1", {
        method: "POST",
        body: sent,
        headers: {
          host: "api.test",
          date,
          "content-digest": digest,
          "content-length": String(new TextEncoder().encode(sent).length),
          ...(authorization ? { authorization } : {}),
        },
      });
    const ok = await send(signed(sign("s3cret", text), over));
    assert.equal(ok.status, 200);
    const seen = (await ok.json()) as Echoed;
    assert.equal(seen.headers["authorization"], undefined, "hide_credentials");
    const missing = await send(undefined);
    assert.equal(missing.status, 401);
    assert.equal(await missing.text(), "Signature missing");
    assert.equal(
      missing.headers.get("www-authenticate"),
      'Signature realm="pingap",headers="(request-target) host date content-digest"',
    );
    const forged = await send(signed(sign("guess", text), over));
    assert.equal(forged.status, 401);
    assert.equal(await forged.text(), "Signature invalid");
    const swapped = await send(signed(sign("s3cret", text), over), "hello worle");
    assert.notEqual(swapped.status, 200);
    await swapped.body?.cancel();
    assert.deepEqual(bodies, [body], "a body that is not the signed one never reaches the upstream whole");
  } finally {
    await h.dispose();
  }
});
