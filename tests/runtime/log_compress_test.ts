/**
 * Old log compression in `pingap start` (basic.log_compress_*): the proxy
 * starts with compression off and old rolled files of its `--log` and
 * access-log file; a reload that sets gzip at the current hour compresses
 * them (the bytes come back), and the files being written stay.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { freePort } from "../_support/origin.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { pollFor } from "../_support/poll.ts";

function config(port: number, dir: string, compress: string): string {
  return `
[basic]
${compress}

[servers.s]
addr = "127.0.0.1:${port}"
access_log = "${dir}/access.log?rolling=daily {method} {uri} {status}"
locations = ["ping"]

[locations.ping]
path = "/ping"
plugins = ["pingap:ping"]
`;
}

async function old(file: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(`GET /old 200\n`.repeat(300));
  await Deno.writeFile(file, bytes);
  const t = new Date(Date.now() - 30 * 86_400_000);
  await Deno.utime(file, t, t);
  return bytes;
}

Deno.test("pingap start: a reload that turns on gzip at the current hour compresses old rolled logs", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const conf = `${dir}/pingap.toml`;
  const appOld = await old(`${dir}/app.log.2026-01-01`);
  const accessOld = await old(`${dir}/access.log.2026-01-02`);
  await Deno.writeTextFile(conf, config(port, dir, ""));
  // The child's local time is UTC, so the hour set below is its current hour.
  const child = spawnDeno([...START_ARGS, conf, "--log", `${dir}/app.log?rolling=daily`], { env: { TZ: "UTC" } });
  try {
    await pollFor(
      "the proxy to answer",
      async () => (await (await fetch(`http://127.0.0.1:${port}/ping`)).text()) === "pong" || undefined,
    );
    const before = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert.ok(
      before.includes("app.log.2026-01-01") && before.includes("access.log.2026-01-02"),
      "off: nothing compressed",
    );
    const current = before.filter((n) => /^(app|access)\.log\.\d{4}-\d{2}-\d{2}$/.test(n) && !n.includes("2026-01-0"));
    // Not in the hour's last 20 seconds: the run must start within the hour the config names.
    const toNextHour = 3_600_000 - (Date.now() % 3_600_000);
    if (toNextHour < 20_000) await new Promise((r) => setTimeout(r, toNextHour + 100));
    await Deno.writeTextFile(
      conf,
      config(port, dir, `log_compress_algorithm = "gzip"\nlog_compress_time_point_hour = ${new Date().getUTCHours()}`),
    );
    Deno.kill(child.pid, "SIGHUP");
    const gz = async (name: string) => new Uint8Array(gunzipSync(await Deno.readFile(`${dir}/${name}.gz`)));
    assert.deepEqual(await pollFor("the app log compressed", () => gz("app.log.2026-01-01")), appOld);
    assert.deepEqual(await pollFor("the access log compressed", () => gz("access.log.2026-01-02")), accessOld);
    const after = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert.ok(!after.includes("app.log.2026-01-01") && !after.includes("access.log.2026-01-02"), after.join(" "));
    for (const n of current) assert.ok(after.includes(n), `${n} (being written) stays`);
  } finally {
    await child.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
