/**
 * A reload or a graceful stop never cuts a response that is still
 * streaming (issue 15, finding 4): the exchange holds a lease on its
 * generation's upstream (pool and connection) until its body ends. The
 * proxy runs as the CLI in its own process; the origin streams a body of
 * numbered chunks slowly, and the client checks every byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, type Origin, startOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno, START_ARGS } from "../_support/process.ts";

const CHUNKS = 30;
const EVERY_MS = 100;

/** Chunk `i` of the slow body: its number and a filler, 1 KiB. */
function chunk(i: number): Uint8Array {
  return new TextEncoder().encode(
    `chunk ${String(i).padStart(4, "0")} `.padEnd(1024, String.fromCharCode(97 + i % 26)),
  );
}

const expected = (() => {
  const out = new Uint8Array(CHUNKS * 1024);
  for (let i = 0; i < CHUNKS; i++) out.set(chunk(i), i * 1024);
  return out;
})();

/** An origin streaming {@linkcode CHUNKS} chunks, one every {@linkcode EVERY_MS} ms. */
function startSlowOrigin(): Promise<Origin> {
  return startOrigin("slow", () => {
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i === CHUNKS) return controller.close();
        return new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            controller.enqueue(chunk(i++));
            resolve();
          }, i === 0 ? 0 : EVERY_MS);
        });
      },
      cancel() {
        clearTimeout(timer);
      },
    });
    return new Response(body, { headers: { "content-type": "application/octet-stream" } });
  });
}

/** One server, one location, upstream `main` with `read_timeout` (and addresses) as given. */
function config(port: number, addrs: readonly string[], readTimeout: string): string {
  return `
[servers.s]
addr = "127.0.0.1:${port}"
locations = ["dl"]

[locations.dl]
path = "/"
upstream = "main"

[upstreams.main]
addrs = [${addrs.map((a) => `"${a}"`).join(", ")}]
read_timeout = "${readTimeout}"
`;
}

/** Reads the whole body; resolves with its bytes, or the error that cut it. */
async function download(url: string): Promise<{ bytes: Uint8Array; error?: string }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const part of res.body!) {
      parts.push(part);
      size += part.byteLength;
    }
  } catch (e) {
    return { bytes: concat(parts, size), error: (e as Error).message };
  }
  return { bytes: concat(parts, size) };
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function assertWhole(got: { bytes: Uint8Array; error?: string }): void {
  assert.equal(got.error, undefined, `the download was cut after ${got.bytes.byteLength} bytes`);
  assert.equal(got.bytes.byteLength, expected.byteLength, "every byte arrived");
  assert.deepEqual(got.bytes, expected, "byte for byte");
}

async function withProxy(
  origins: readonly Origin[],
  test: (child: Child, file: string, port: number) => Promise<void>,
): Promise<void> {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(port, origins.map((o) => o.addr), "10s"));
  const child = spawnDeno([...START_ARGS, file]);
  try {
    await child.waitFor(/listening on/);
    await test(child, file, port);
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    for (const o of origins) await o.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("reload: a streaming download survives 5 reloads that change its upstream", async () => {
  const origins = [await startSlowOrigin(), await startSlowOrigin()];
  await withProxy(origins, async (child, file, port) => {
    const pending = download(`http://127.0.0.1:${port}/file`);
    const addrs = origins.map((o) => o.addr);
    for (let n = 1; n <= 5; n++) {
      await new Promise((r) => setTimeout(r, 300));
      // Each reload changes the upstream: its read_timeout, and every other time its address order.
      const order = n % 2 ? [...addrs].reverse() : addrs;
      await Deno.writeTextFile(file, config(port, order, `${10 + n}s`));
      const seen = child.output().split("reload (SIGHUP)").length;
      Deno.kill(child.pid, "SIGHUP");
      await child.waitFor(new RegExp(`(reload \\(SIGHUP\\)[^\\n]*\\n[^]*){${seen}}`));
    }
    assert.equal(child.output().match(/reload \(SIGHUP\): Upstream\(main\) is modified/g)?.length, 5);
    assertWhole(await pending);
    // The new generation serves too.
    assertWhole(await download(`http://127.0.0.1:${port}/after`));
  });
});

Deno.test("stop: SIGTERM during a streaming download (its upstream retired by a reload) lets it complete, exit 0", async () => {
  const origin = await startSlowOrigin();
  await withProxy([origin], async (child, file, port) => {
    const pending = download(`http://127.0.0.1:${port}/file`);
    await new Promise((r) => setTimeout(r, 300));
    // The download's upstream state is the old generation's, draining, when the stop comes.
    await Deno.writeTextFile(file, config(port, [origin.addr], "20s"));
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): Upstream\(main\) is modified/);
    Deno.kill(child.pid, "SIGTERM");
    assertWhole(await pending);
    assert.equal(await child.exited(), 0);
  });
});
