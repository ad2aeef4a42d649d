/**
 * The HTTP/2 engine with real clients over real sockets: curl (`--http2-prior-knowledge` on h2c, `--http2` over TLS
 * from a `node:tls` socket as the TLS listener hands it), several requests on one connection and a 10 MB body both
 * ways with the same SHA-256; real Node's http2 client with 100 concurrent streams on one connection; h2load
 * `-n 20000 -c 10 -m 10` with no error, the engine still serving afterwards.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { responseWith } from "../../http/response_build.ts";
import { makeTestPki } from "../../../tests/_support/certs.ts";
import { requireComponent } from "../../../tests/components.ts";
import { createH2Engine, type H2Handler } from "./engine.ts";
import { serveEngine } from "./_raw_client.ts";

const decoder = new TextDecoder();

/** Echoes a POST's body back as it streams; answers `path=<path>` to anything else. */
const echo: H2Handler = (req) => {
  if (req.method === "POST") {
    return responseWith(req.body, { status: 200 }, { "content-type": "application/octet-stream" });
  }
  return responseWith(`path=${req.target}`, { status: 200 });
};

async function run(
  cmd: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: stdin ? "piped" : "null" })
    .spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A 10 MB file of varied bytes. */
async function bigFile(dir: string): Promise<string> {
  const data = new Uint8Array(10 * 1024 * 1024);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  const path = `${dir}/big.bin`;
  await Deno.writeFile(path, data);
  return path;
}

/** The engine behind a `node:tls` server that offers ALPN `h2` (as runtime/tls/listener.ts hands sockets over). */
async function serveTls(handler: H2Handler, cert: string, key: string) {
  const engine = createH2Engine({ authority: () => "localhost" }, handler);
  const server: TlsServer = createTlsServer(
    { cert, key, ALPNProtocols: ["h2"] },
    (s) => engine.serveSocket(s, { hostname: s.remoteAddress ?? "", port: s.remotePort ?? 0 }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      server.close();
      await engine.shutdown(500);
    },
  };
}

/** curl (`how`: its protocol flags) posts a 10 MB file to `${base}/echo` over HTTP/2 and gets the same bytes back. */
async function assertEchoesBig(dir: string, base: string, how: readonly string[]): Promise<void> {
  const file = await bigFile(dir);
  const out = `${dir}/back.bin`;
  const big = await run("curl", [
    "-s",
    ...how,
    "--data-binary",
    `@${file}`,
    "-o",
    out,
    "-w",
    "%{http_version} %{http_code}",
    `${base}/echo`,
  ]);
  assert.equal(big.code, 0, big.stderr);
  assert.equal(big.stdout, "2 200");
  assert.equal(await sha256File(out), await sha256File(file));
}

Deno.test("h2 engine over h2c: several requests on one connection (nghttp), curl --http2-prior-knowledge 10 MB both ways", async () => {
  const dir = await Deno.makeTempDir();
  const s = serveEngine(echo);
  try {
    const base = `http://127.0.0.1:${s.port}`;
    // curl 7.88.1 (here) cannot reuse a prior-knowledge connection (exit 16 against Deno.serve's hyper too): the
    // several requests on one h2c connection are nghttp's.
    const several = await run("nghttp", ["-n", "-s", `${base}/a`, `${base}/b`, `${base}/c`]);
    assert.equal(several.code, 0, several.stderr);
    assert.equal((several.stdout.match(/ 200 /g) ?? []).length, 3, several.stdout);
    const one = await run("curl", ["-s", "--http2-prior-knowledge", `${base}/a`]);
    assert.equal(one.stdout, "path=/a");
    await assertEchoesBig(dir, base, ["--http2-prior-knowledge"]);
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("h2 engine with curl --http2 over TLS (ALPN h2 from node:tls): several requests on one connection, 10 MB both ways", async () => {
  const pki = await makeTestPki([{ name: "localhost" }]);
  const { cert, key } = pki.leaves["localhost"]!;
  const s = await serveTls(echo, cert, key);
  try {
    const base = `https://localhost:${s.port}`;
    const tls = ["--cacert", pki.ca.certFile, "--resolve", `localhost:${s.port}:127.0.0.1`, "--http2"];
    const several = await run("curl", ["-sv", ...tls, `${base}/a`, `${base}/b`]);
    assert.equal(several.code, 0, several.stderr);
    assert.equal(several.stdout, "path=/apath=/b");
    assert.match(several.stderr, /ALPN.*h2/);
    assert.match(several.stderr, /Re-using existing connection|Reusing existing connection/);
    await assertEchoesBig(pki.dir, base, tls);
  } finally {
    await s.close();
    await pki.remove();
  }
});

Deno.test("h2 engine with real Node's http2 client: 100 concurrent streams on one connection", async () => {
  let inflight = 0, most = 0;
  const s = serveEngine(async (req) => {
    most = Math.max(most, ++inflight);
    // Every stream waits a little, so that they overlap.
    await new Promise((r) => setTimeout(r, 50));
    inflight--;
    return responseWith(`answer ${req.target}`, { status: 200 });
  });
  try {
    const script = `
      const http2 = require("node:http2");
      const session = http2.connect("http://127.0.0.1:${s.port}");
      let ok = 0, bad = 0, left = 100;
      for (let i = 0; i < 100; i++) {
        const req = session.request({ ":path": "/s" + i });
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (d) => body += d);
        req.on("end", () => {
          if (body === "answer /s" + i) ok++; else bad++;
          if (--left === 0) { console.log(ok + " " + bad); session.close(); }
        });
        req.on("error", (e) => { bad++; if (--left === 0) { console.log(ok + " " + bad); session.close(); } });
        req.end();
      }
    `;
    const out = await run("node", ["-e", script]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), "100 0");
    assert.ok(most > 50, `streams overlapped: at most ${most} at once`);
  } finally {
    await s.close();
  }
});

const h2load = await requireComponent("h2load", { binaries: ["h2load"], aptPackages: ["nghttp2-client"] });

Deno.test({
  name: "h2 engine: h2load -n 20000 -c 10 -m 10 finishes with no error, and the engine serves afterwards",
  ignore: !h2load,
  async fn() {
    const s = serveEngine(echo);
    try {
      const out = await run(h2load!.h2load, ["-n", "20000", "-c", "10", "-m", "10", `http://127.0.0.1:${s.port}/`]);
      assert.match(out.stdout, /20000 succeeded, 0 failed, 0 errored/, out.stdout);
      const after = await run("curl", ["-s", "--http2-prior-knowledge", `http://127.0.0.1:${s.port}/after`]);
      assert.equal(after.stdout, "path=/after");
    } finally {
      await s.close();
    }
  },
});
