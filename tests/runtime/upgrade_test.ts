/**
 * `--upgrade`: a second process takes over the ports of a running one
 * while wrk keeps sending requests on keep-alive connections; the old one
 * tells its clients to reconnect (`Connection: close`), drains and exits 0.
 * No request may fail. Without `--upgrade`, a second start on a busy port is
 * refused.
 */
import assert from "node:assert/strict";
import { requireComponent } from "../components.ts";
import { freePort, startEchoOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno } from "../_support/process.ts";
import { START_ARGS as START, upgradeConfig as config } from "../_support/upgrade.ts";

Deno.test("upgrade: a second start without --upgrade is refused on a busy port", async () => {
  const origin = await startEchoOrigin("o");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(origin.addr, freePort(), `${dir}/pingap.pid`));
  const first = spawnDeno([...START, file]);
  try {
    await first.waitFor(/listening on/);
    assert.equal(Number(await Deno.readTextFile(`${dir}/pingap.pid`)), first.pid);
    const second = spawnDeno([...START, file]);
    assert.equal(await second.exited(), 1);
    assert.match(second.output(), /already in use: 127\.0\.0\.1:\d+ \(server s\)\. .*--upgrade/);
    assert.equal(Number(await Deno.readTextFile(`${dir}/pingap.pid`)), first.pid, "pid file untouched");
  } finally {
    await first.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const tools = await requireComponent("wrk", { binaries: ["wrk"], aptPackages: ["wrk"] });

Deno.test({ name: "upgrade: two takeovers under wrk load lose no request", ignore: !tools }, async () => {
  const origin = await startEchoOrigin("o");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  await Deno.writeTextFile(file, config(origin.addr, port, `${dir}/pingap.pid`));
  const procs: Child[] = [spawnDeno([...START, file])];
  try {
    await procs[0]!.waitFor(/listening on/);
    const wrk = new Deno.Command(tools!.wrk, {
      args: ["-t1", "-c20", "-d6s", `http://127.0.0.1:${port}/`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    for (let i = 1; i <= 2; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      const next = spawnDeno([...START, file, "--upgrade"]);
      procs.push(next);
      await next.waitFor(/upgrade: took over from pid (\d+)/);
      assert.equal(await procs[i - 1]!.exited(), 0, "the old process drains and exits 0");
    }
    const out = new TextDecoder().decode((await wrk).stdout);
    const requests = Number(out.match(/(\d+) requests in/)?.[1]);
    assert.ok(requests > 100, `wrk ran: ${out}`);
    assert.doesNotMatch(out, /Socket errors|Non-2xx/, `no failed request across two upgrades:\n${out}`);
    assert.equal(Number(await Deno.readTextFile(`${dir}/pingap.pid`)), procs[2]!.pid, "pid file names the newest");
    const res = await fetch(`http://127.0.0.1:${port}/after`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
