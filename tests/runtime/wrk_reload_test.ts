/**
 * `wrk` through reloads of every kind (issue 15, "Done when"): while wrk
 * sends requests on keep-alive connections to a plain server (small
 * answers, and 256 KiB bodies that stream from the upstream connection) and
 * a TLS server, the CLI (its own process) is reloaded by SIGHUP 10 times for
 * each kind of change in turn: a route, an upstream, a plugin, a listener (a second
 * address of the plain server added and removed, and the TLS server's
 * `tls_min_version`, which restarts the listener wrk uses on its port), a
 * certificate (the TLS server's, swapped). Not one request may fail: no
 * "Socket errors", no "Non-2xx" line in any wrk report. It asserts
 * correctness, not speed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { echoHandler, freePort, type Origin, startOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno, START_ARGS } from "../_support/process.ts";
import { makeTestPki } from "../_support/certs.ts";
import { requireComponent } from "../components.ts";

const tools = await requireComponent("wrk", { binaries: ["wrk"], aptPackages: ["wrk"] });

/** What each reload kind has changed so far (each counter moves by one per reload of its kind). */
interface State {
  route: number;
  upstream: number;
  plugin: number;
  listener: number;
  certificate: number;
}

/** Half of a 256 KiB body: too large to come with the head, so it streams from the upstream connection. */
const HALF = new Uint8Array(128 * 1024).fill(0x61);

/**
 * An echo origin that answers `/big` with 256 KiB in two halves 20 ms apart: wrk's connections are nearly always in
 * the middle of a body when a reload retires the upstream.
 */
function startBigOrigin(name: string): Promise<Origin> {
  const echo = echoHandler(name);
  return startOrigin(name, (req, info) => {
    if (!req.url.endsWith("/big")) return echo(req, info);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 2) return c.close();
        if (sent++ === 1) await new Promise((r) => setTimeout(r, 20));
        c.enqueue(HALF);
      },
    });
    return new Response(body, { headers: { "content-length": String(2 * HALF.byteLength) } });
  });
}

const KINDS = ["route", "upstream", "plugin", "listener", "certificate"] as const;
const ROUNDS = 10;

interface Setup {
  readonly origins: readonly string[];
  readonly plain: number;
  /** The second address of the plain server, there on odd listener counts. */
  readonly extra: number;
  readonly tls: number;
  readonly certs: readonly { certFile: string; keyFile: string }[];
}

function config(s: Setup, st: State): string {
  const addrs = st.upstream % 2 ? [...s.origins].reverse() : s.origins;
  const plainAddrs = [`127.0.0.1:${s.plain}`, ...(st.listener % 2 ? [`127.0.0.1:${s.extra}`] : [])];
  const cert = s.certs[st.certificate % 2]!;
  // Routes: the header value changes, and a second location comes and goes.
  const extraRoute = st.route % 2 === 1;
  const locations = JSON.stringify(["api", ...(extraRoute ? ["other"] : [])]);
  return `
[servers.plain]
addr = "${plainAddrs.join(",")}"
locations = ${locations}

[servers.tls]
addr = "127.0.0.1:${s.tls}"
global_certificates = true
tls_min_version = "${st.listener % 2 ? "tlsv1.3" : "tlsv1.2"}"
locations = ${locations}

[locations.api]
path = "/"
upstream = "main"
proxy_set_headers = ["X-Route:${st.route}"]
plugins = ["headers"]
${
    extraRoute
      ? `
[locations.other]
path = "/other-${st.route}"
upstream = "main"
`
      : ""
  }
[plugins.headers]
category = "response_headers"
set_headers = ["X-Plugin:${st.plugin}"]

[upstreams.main]
addrs = [${addrs.map((a) => `"${a}"`).join(", ")}]
read_timeout = "${10 + st.upstream}s"

[certificates.main]
tls_cert = "${cert.certFile}"
tls_key = "${cert.keyFile}"
is_default = true
`;
}

/** Resolves once `child`'s output has `count` lines that say a SIGHUP reload was applied. */
async function reloads(child: Child, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = child.output();
    assert.doesNotMatch(out, /reload \(SIGHUP\)[^\n]*failed/, "every reload applies");
    const applied = out.match(/reload \(SIGHUP\): (?!config unchanged)/g)?.length ?? 0;
    if (applied >= count) return;
    if (Date.now() > deadline) throw new Error(`${applied} of ${count} reloads applied`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts wrk on `url` until SIGINT; resolves with its report. */
function startWrk(url: string, connections: number): { stop(): Promise<string> } {
  const child = new Deno.Command(tools!.wrk, {
    // A generous timeout: a slow answer on a busy machine is not what this test is about.
    args: ["-t1", `-c${connections}`, "-d120s", "--timeout", "20s", url],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  return {
    async stop() {
      try {
        child.kill("SIGINT");
      } catch {
        // Ended already.
      }
      const out = await output;
      return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    },
  };
}

Deno.test({ name: "reload: wrk through 10 reloads of every kind sees 0 failed requests", ignore: !tools }, async () => {
  const origins = [await startBigOrigin("a"), await startBigOrigin("b")];
  const pki = await makeTestPki([{ name: "one.test" }, { name: "two.test" }]);
  const setup: Setup = {
    origins: origins.map((o) => o.addr),
    plain: freePort(),
    extra: freePort(),
    tls: freePort(),
    certs: [pki.leaves["one.test"]!, pki.leaves["two.test"]!],
  };
  const state: State = { route: 0, upstream: 0, plugin: 0, listener: 0, certificate: 0 };
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(setup, state));
  const child = spawnDeno([...START_ARGS, file]);
  const runs: { stop(): Promise<string> }[] = [];
  try {
    await child.waitFor(/listening on https?:\/\/127\.0\.0\.1:\d+[^]*listening on/);
    runs.push(startWrk(`http://127.0.0.1:${setup.plain}/`, 4));
    runs.push(startWrk(`http://127.0.0.1:${setup.plain}/big`, 4));
    runs.push(startWrk(`https://127.0.0.1:${setup.tls}/`, 4));
    let applied = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of KINDS) {
        state[kind]++;
        await Deno.writeTextFile(file, config(setup, state));
        Deno.kill(child.pid, "SIGHUP");
        await reloads(child, ++applied);
      }
    }
    const [plain, big, tls] = await Promise.all(runs.splice(0).map((r) => r.stop()));
    for (const [name, out] of [["plain", plain!], ["plain, 256 KiB bodies", big!], ["tls", tls!]] as const) {
      const requests = Number(out.match(/(\d+) requests in/)?.[1]);
      assert.ok(requests > 0, `wrk (${name}) ran:\n${out}`);
      assert.doesNotMatch(out, /Socket errors|Non-2xx/, `no failed request (${name}):\n${out}`);
      console.log(`wrk (${name}): ${requests} requests, 0 failed, across ${applied} reloads`);
    }
    const out = child.output();
    for (
      const what of [/Location\(api\)/, /Upstream\(main\)/, /Plugin\(headers\)/, /Server\([^)]*plain/, /Certificate/]
    ) {
      assert.match(out, what, `a reload changed ${what.source}`);
    }
    assert.equal(await child.stop(), 0);
  } catch (e) {
    console.error(child.output().slice(-4000));
    throw e;
  } finally {
    await Promise.allSettled(runs.map((r) => r.stop()));
    await child.stop();
    for (const o of origins) await o.close();
    await pki.remove();
    await Deno.remove(dir, { recursive: true });
  }
});
