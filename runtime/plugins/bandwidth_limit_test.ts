/** `bandwidth_limit` through a compiled Plan without sockets (runtime/proxy/harness.ts), with Pingap's vector 144. */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { planOf, pluginErrorsAt } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["pace"]
[plugins.pace]
category = "bandwidth_limit"
rate = "1kb"
after = "2kb"
path = "^/files"
`);

const body = new Uint8Array(2500).map((_, i) => i % 251);
const upstream = () => new Response(body);

/** Reads `res` and notes when the byte count first reached each mark (ms since the call). */
async function arrivals(res: Response, marks: number[]): Promise<{ bytes: Uint8Array; at: number[] }> {
  const start = performance.now();
  const parts: Uint8Array[] = [];
  const at: number[] = [];
  let n = 0;
  for await (const chunk of res.body!) {
    parts.push(chunk);
    n += chunk.length;
    while (at.length < marks.length && n >= marks[at.length]!) at.push(performance.now() - start);
  }
  const bytes = new Uint8Array(n);
  let o = 0;
  for (const p of parts) (bytes.set(p, o), o += p.length);
  return { bytes, at };
}

Deno.test("bandwidth_limit: vector 144, 2000 bytes at once, the next 500 held (at least 100 ms), bytes intact", async () => {
  const h = planHarness(plan, { upstream });
  try {
    const { bytes, at } = await arrivals(await h.request("http://a.test/files/x"), [2000, 2500]);
    assert.deepEqual(bytes, body);
    assert.ok(at[1]! - at[0]! >= 100, `the paced 500 bytes came ${at[1]! - at[0]!} ms after the prefix`);
  } finally {
    await h.dispose();
  }
});

Deno.test("bandwidth_limit: a path that does not match passes its body as it is", async () => {
  const h = planHarness(plan, { upstream });
  try {
    const res = await h.request("http://a.test/other");
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), body);
  } finally {
    await h.dispose();
  }
});

function errorsOf(keys: string): string[] {
  return pluginErrorsAt("pace", "bandwidth_limit", keys);
}

Deno.test("bandwidth_limit: bad config is a check error at its key, with a hint", () => {
  assert.deepEqual(errorsOf('after = "1kb"'), ["plugins.pace.rate"]);
  assert.deepEqual(errorsOf("rate = 0"), ["plugins.pace.rate"]);
  assert.deepEqual(errorsOf('rate = "fast"'), ["plugins.pace.rate"]);
  assert.deepEqual(errorsOf('rate = "1kb"\npath = "(("'), ["plugins.pace.path"]);
});

Deno.test("bandwidth_limit: a client that goes away mid-pace ends the body without an error escaping", async () => {
  const h = planHarness(plan, { upstream: () => new Response(new Uint8Array(4000)) });
  try {
    const res = await h.request("http://a.test/files/x");
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(first.value?.length, 2000, "the unpaced prefix");
    await reader.cancel();
    // The held piece's timer fires after the cancel; nothing must throw out of it.
    await new Promise((ok) => setTimeout(ok, 700));
  } finally {
    await h.dispose();
  }
});
