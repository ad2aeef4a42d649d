/**
 * The application log of `pingap start` (issue 5): JSON lines in the
 * `--log` file, the level from `basic.log_level`, and a reload that changes
 * it. The default access log goes to the application log at INFO, so its
 * lines appear only once the level allows them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../_support/origin.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { pollFor } from "../_support/poll.ts";

function config(port: number, level: string): string {
  return `
[basic]
log_level = "${level}"
log_format_json = true

[servers.s]
addr = "127.0.0.1:${port}"
access_log = "{method} {uri} {status}"
locations = ["ping"]

[locations.ping]
path = "/ping"
plugins = ["pingap:ping"]
`;
}

async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test("app log: JSON lines in the --log file; a reload from warn to info lets INFO lines through", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const conf = `${dir}/pingap.toml`;
  const log = `${dir}/app.log`;
  await Deno.writeTextFile(conf, config(port, "warn"));
  const child = spawnDeno([...START_ARGS, conf, "--log", log]);
  const ping = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    return res.status === 200 && (await res.text()) === "pong" ? true : undefined;
  };
  try {
    await pollFor("the proxy to answer", ping);
    await pollFor("a reload line", async () => {
      await Deno.writeTextFile(conf, config(port, "info"));
      Deno.kill(child.pid, "SIGHUP");
      await new Promise((r) => setTimeout(r, 200));
      return (await readLines(log)).find((l) => /^reload \(SIGHUP\)/.test(String(l.message)));
    });
    await ping();
    const access = await pollFor("the access line", async () => {
      return (await readLines(log)).find((l) => l.message === "GET /ping 200");
    });
    assert.equal(access.level, "INFO");
    assert.match(String(access.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(await child.stop(), 0);
    const lines = await readLines(log); // Every line parsed as JSON.
    const messages = lines.map((l) => String(l.message));
    // At warn, neither "listening on" nor the first requests' access lines (INFO) were written.
    assert.ok(!messages.some((m) => m.includes("listening on")), messages.join("\n"));
    assert.equal(messages.filter((m) => m === "GET /ping 200").length, 1, messages.join("\n"));
    // The shutdown line is written before the process exits.
    assert.ok(messages.some((m) => m.startsWith("shutting down")), messages.join("\n"));
    // Only the config check's summary, printed before the log starts, is on stderr.
    assert.match(child.output().trim(), /^\S+pingap\.toml: OK$/);
  } finally {
    await child.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
