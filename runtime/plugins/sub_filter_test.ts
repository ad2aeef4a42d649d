/** `sub_filter`: the streaming replacer against the whole-body result for every chunking, Pingap's vectors, and the
 * plugin through a compiled Plan without sockets. */
import assert from "node:assert/strict";
import type { PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";
import { brotliDecompressSync, gzipSync } from "node:zlib";
import { MAX_LINE, prepareRules, subFilterStream } from "./sub_filter_stream.ts";

type Plan = ReturnType<typeof planOf>;

/** The compiled rules of a sub_filter table with these filters. */
function rules(...filters: string[]) {
  const plan: Plan = planOf(`[plugins.f]
category = "sub_filter"
filters = ${JSON.stringify(filters)}
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[locations.l]
plugins = ["f"]
`);
  const p = plan.plugins.find((x) => x.name === "f")!;
  return (p.config as PlanOf<typeof PLUGIN_DEFINITIONS.subFilter>).filters;
}

/** Runs `body` through the stream cut into pieces at `cuts` (byte offsets). */
async function streamed(filters: string[], body: Uint8Array, cuts: number[]): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, body.length]) {
    pieces.push(body.slice(at, c));
    at = c;
  }
  const out = ReadableStream.from(pieces).pipeThrough(subFilterStream(prepareRules(rules(...filters))));
  return new Uint8Array(await new Response(out).arrayBuffer());
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Pingap's `apply` on a whole body (a rule at a time), to compare the stream with. */
async function whole(filters: string[], text: string): Promise<string> {
  return dec(await streamed(filters, enc(text), []));
}

Deno.test("Pingap vectors (sub_filter test_apply): each rule on a whole body", async () => {
  const data = "http://pingap.io http://PinGap.io http://pingap.io";
  const to = "https://pingap.io/api";
  assert.equal(await whole([`subs_filter 'http://pingap.io' '${to}' ig`], data), `${to} ${to} ${to}`);
  assert.equal(await whole([`subs_filter 'http://pingap.io' '${to}' g`], data), `${to} http://PinGap.io ${to}`);
  assert.equal(
    await whole([`subs_filter 'http://pingap.io' '${to}'`], data),
    `${to} http://PinGap.io http://pingap.io`,
  );
  assert.equal(await whole([`sub_filter 'http://pingap.io' '${to}'`], data), `${to} http://PinGap.io http://pingap.io`);
  assert.equal(await whole([`sub_filter 'http://pingap.io' '${to}' g`], data), `${to} http://PinGap.io ${to}`);
  assert.equal(
    await whole(["subs_filter '<title>(.*?)</title>' '<title>Docs - $1</title>'"], "<title>x</title>"),
    "<title>Docs - x</title>",
  );
  assert.equal(await whole(["sub_filter 'zzz' 'y' g"], "untouched"), "untouched");
});

Deno.test("Pingap vector 99: a subs_filter rule is a regex with flags i and g, a sub_filter rule a literal", () => {
  const [re] = rules("subs_filter 'http://pingap.io' 'https://pingap.io/api' ig");
  assert.equal(re!.kind, "regex");
  assert.equal(re!.replacement, "https://pingap.io/api");
  assert.ok(re!.global && re!.caseInsensitive);
  const [lit] = rules("sub_filter 'http://pingap.io' 'https://pingap.io/api' ig");
  assert.equal(lit!.kind, "literal");
  assert.equal(lit!.pattern, "http://pingap.io");
  assert.ok(lit!.global);
});

Deno.test("sub_filter stream: every cut of the body gives the whole-body result (literal, regex, chained, first only)", async () => {
  const text = "<a href='http://old.example/x'>http://old.example</a>\nnaïve café http://old.example/é\n" +
    "<title>Hello wörld</title>\nend http://old.example";
  const sets = [
    ["sub_filter 'http://old.example' 'https://new.example' g"],
    ["sub_filter 'http://old.example' 'https://new.example'"],
    ["subs_filter 'http://old\\.(\\w+)' 'https://$1.new' g", "sub_filter 'new' 'NEW' g"],
    ["sub_filter 'café' 'coffee' g", "subs_filter '<title>(.*?)</title>' '<title>[$1]</title>'"],
    ["sub_filter 'old' 'o' g", "sub_filter 'o.e' 'X' g"],
  ];
  const body = enc(text);
  for (const filters of sets) {
    const want = await whole(filters, text);
    assert.notEqual(want, text, `${filters} changes something`);
    for (let i = 1; i < body.length; i++) {
      assert.equal(dec(await streamed(filters, body, [i])), want, `${filters} cut at ${i}`);
    }
    // Every byte its own chunk.
    assert.equal(dec(await streamed(filters, body, Array.from({ length: body.length - 1 }, (_, i) => i + 1))), want);
  }
});

Deno.test("sub_filter stream: bytes that are not UTF-8 pass through unchanged around a match", async () => {
  const body = new Uint8Array([0xff, 0x00, 0xc3, ...enc("old"), 0x80, 0xfe]);
  const out = await streamed(["sub_filter 'old' 'new'"], body, [2, 4]);
  assert.deepEqual(out, new Uint8Array([0xff, 0x00, 0xc3, ...enc("new"), 0x80, 0xfe]));
});

Deno.test("sub_filter stream: a regex rule holds back at most a line (MAX_LINE) before it matches", async () => {
  const line = "x".repeat(MAX_LINE + 10);
  const stream = subFilterStream(prepareRules(rules("subs_filter 'y' 'z'")));
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  void writer.write(enc(line));
  const first = await reader.read();
  assert.equal(first.value?.length, line.length, "an over-long line is passed on without waiting for its end");
  void writer.close();
  assert.equal((await reader.read()).done, true);
});

function config(extra: string): string {
  return `
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["f", "m"]
[plugins.f]
category = "sub_filter"
filters = ["sub_filter 'old' 'new' g"]
${extra}
[plugins.m]
category = "mock"
path = "/api/mock"
data = "old mock"
`;
}

Deno.test("sub_filter plugin: upstream answers on the path and statuses, never encoded ones nor plugin answers", async () => {
  let status = 200;
  let headers: Record<string, string> = { "content-type": "text/html", "content-length": "11" };
  const h = planHarness(planOf(config(`path = "^/api"\nstatus_codes = "200,404"`)), {
    upstream: () => new Response("old old old", { status, headers }),
  });
  const text = async (url: string, method = "GET") => {
    const res = await h.request(url, { method });
    return { body: await res.text(), length: res.headers.get("content-length") };
  };
  try {
    assert.deepEqual(await text("http://t/api/x"), { body: "new new new", length: null });
    assert.equal((await text("http://t/other")).body, "old old old", "off the path");
    status = 404;
    assert.equal((await text("http://t/api/x")).body, "new new new");
    status = 500;
    assert.equal((await text("http://t/api/x")).body, "old old old", "status not listed");
    status = 200;
    headers = { "content-type": "text/html", "content-encoding": "gzip" };
    assert.equal((await text("http://t/api/x")).body, "old old old", "encoded: opaque");
    assert.equal((await text("http://t/api/mock")).body, "old mock", "a plugin's answer");
  } finally {
    await h.dispose();
  }
});

Deno.test("sub_filter with compression: the rules see the plain body, whatever order the chain lists them", async () => {
  const body = "old ".repeat(100);
  for (const order of [`"pingap:compression", "f"`, `"f", "pingap:compression"`]) {
    const h = planHarness(
      planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = [${order}]
[plugins.f]
category = "sub_filter"
filters = ["sub_filter 'old' 'new' g"]
`),
      { upstream: () => new Response(body, { headers: { "content-type": "text/plain" } }) },
    );
    try {
      const res = await h.request("http://t/", { headers: { "accept-encoding": "gzip" } });
      assert.equal(res.headers.get("content-encoding"), "gzip", order);
      const plain = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
      assert.equal(plain, "new ".repeat(100), order);
    } finally {
      await h.dispose();
    }
  }
});

Deno.test("sub_filter docs example: identity asked of the upstream, the rewritten body compressed for the client", async () => {
  const h = planHarness(
    planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["legacy"]
[upstreams.old]
addrs = ["10.0.0.1:8080"]
[locations.legacy]
upstream = "old"
proxy_set_headers = ["Accept-Encoding: identity"]
plugins = ["relink", "pingap:compression"]
[plugins.relink]
category = "sub_filter"
filters = ["sub_filter 'http://old.example.com' 'https://www.example.com' g"]
`),
    {
      upstream: (req) => {
        const page = "<a href='http://old.example.com/a'>a</a> ".repeat(50);
        return req.headers.get("accept-encoding") === "identity"
          ? new Response(page, { headers: { "content-type": "text/html" } })
          : new Response(gzipSync(page), { headers: { "content-type": "text/html", "content-encoding": "gzip" } });
      },
    },
  );
  try {
    const res = await h.request("http://t/docs", { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(res.headers.get("content-encoding"), "br");
    const text = new TextDecoder().decode(brotliDecompressSync(new Uint8Array(await res.arrayBuffer())));
    assert.equal(text, "<a href='https://www.example.com/a'>a</a> ".repeat(50));
  } finally {
    await h.dispose();
  }
});
