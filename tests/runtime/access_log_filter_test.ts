/**
 * The access-log filter and the standard-stream targets, end to end: the
 * CLI (`mod.ts start`) in its own process with its stdout and stderr read
 * apart, a real origin, real requests. Vector 154 (addendum §A11):
 * `?min_status=500&sample=0.1` logs a tenth of the 200s and all the 503s.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startOrigin } from "../_support/origin.ts";
import { START_ARGS } from "../_support/process.ts";

/** The CLI on `toml` with `extra` flags, stdout and stderr collected apart. */
async function startCli(toml: string, extra: string[] = []) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, toml);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...START_ARGS, file, ...extra],
    cwd: new URL("../../", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const pump = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    const d = new TextDecoder();
    for await (const chunk of stream) out[key] += d.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  const until = async (key: "stdout" | "stderr", test: (text: string) => boolean, what: string) => {
    for (let i = 0; i < 1500; i++) {
      if (test(out[key])) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${what} on ${key}; stdout:\n${out.stdout.slice(-2000)}\nstderr:\n${out.stderr.slice(-2000)}`);
  };
  return {
    out,
    until,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Exited.
      }
      const status = await child.status;
      await pumps;
      await Deno.remove(dir, { recursive: true });
      return status.code;
    },
  };
}

Deno.test("access log to stdout with ?min_status=500&sample=0.1: 100 of 1000 200s and all 200 503s (vector 154)", async () => {
  const origin = await startOrigin("o", (req) => {
    const path = new URL(req.url).pathname;
    return new Response("x", { status: path.startsWith("/err") ? 503 : 200 });
  });
  const port = freePort();
  const cli = await startCli(
    `[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = ["l"]\n` +
      `access_log = "stdout?min_status=500&sample=0.1 {status} {uri}"\n\n` +
      `[upstreams.o]\naddrs = ["${origin.addr}"]\n\n[locations.l]\nupstream = "o"\n`,
    // The application log goes to stderr by name: nothing but access lines on stdout.
    ["--log", "/dev/stderr"],
  );
  try {
    await cli.until("stderr", (t) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(t), "listening line");
    for (let i = 0; i < 1200; i++) {
      // Every sixth request an error: the errors take none of the sampled share.
      const path = i % 6 === 5 ? `/err/${i}` : `/ok/${i}`;
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, path.startsWith("/err") ? 503 : 200);
    }
    const lines = () => cli.out.stdout.split("\n").filter((l) => l !== "");
    await cli.until("stdout", () => lines().filter((l) => l.startsWith("503 ")).length >= 200, "200 error lines");
    // The last request's line is written by now; give nothing else time to come.
    const all = lines();
    assert.equal(all.filter((l) => l.startsWith("503 /err/")).length, 200, "every 503 is logged");
    const ok = all.filter((l) => l.startsWith("200 /ok/"));
    assert.equal(ok.length, 100, "one in ten of the 1000 200s");
    // Evenly, one in every ten: the 10th, 20th, … 200 that came through.
    const okIndex = new Map<string, number>();
    let n = 0;
    for (let i = 0; i < 1200; i++) if (i % 6 !== 5) okIndex.set(`/ok/${i}`, n++);
    assert.deepEqual(ok.map((l) => okIndex.get(l.slice(4))! % 10), new Array(100).fill(9));
    assert.equal(all.length, 300, "nothing else on stdout");
    assert.doesNotMatch(cli.out.stderr, /\/ok\/\d+/, "no access line in the application log");
  } finally {
    assert.equal(await cli.stop(), 0);
    await origin.close();
  }
});

Deno.test("access log skip= and stderr target; --log stdout takes the application log (vector 156 targets)", async () => {
  const origin = await startOrigin("o", () => new Response("x"));
  const port = freePort();
  const cli = await startCli(
    `[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = ["l"]\n` +
      `access_log = "stderr?skip=%5E%2Fhealth&flush_timeout=1s {method} {status} {uri}"\n\n` +
      `[upstreams.o]\naddrs = ["${origin.addr}"]\n\n[locations.l]\nupstream = "o"\n`,
    ["--log", "stdout?compression=gzip"],
  );
  try {
    await cli.until("stdout", (t) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(t), "listening line on stdout");
    assert.match(cli.out.stdout, /--log stdout\?compression=gzip: parameter "compression" is not applied/);
    for (const path of ["/health", "/healthz?x=1", "/app?health", "/health"]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.body?.cancel();
    }
    await cli.until("stderr", (t) => t.includes("GET 200 /app?health"), "the last kept line");
    const access = cli.out.stderr.split("\n").filter((l) => l.startsWith("GET "));
    assert.deepEqual(access, ["GET 200 /app?health"]);
    assert.doesNotMatch(cli.out.stdout, /GET 200/);
  } finally {
    assert.equal(await cli.stop(), 0);
    await origin.close();
  }
});
