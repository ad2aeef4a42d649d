/**
 * Pingap's command-line flags and their `PINGAP_*` fallbacks, through the
 * real CLI (`mod.ts` in its own process): the quick start proxies a real
 * origin over HTTP and TLS with one command, `-t` checks the config the
 * flags make, the flags that cannot apply are refused with the reason, and
 * each environment fallback acts as its flag. `-c` takes HCL and KDL files
 * and directories (checked, served and watched); `--to-hcl` / `--to-kdl`
 * print the config in that format.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, freePort, startEchoOrigin } from "./_support/origin.ts";
import { spawnDeno } from "./_support/process.ts";
import { makeTestPki } from "./_support/certs.ts";
import { versionedConfig } from "./_support/configs.ts";
import { loginToken } from "../runtime/admin/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const RUN = ["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", `${ROOT}mod.ts`];

/** Runs the CLI to its end; `env` is added to the environment. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...RUN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("quick start: one command proxies a real origin; SIGHUP compiles the flags again", async () => {
  const origin = await startEchoOrigin("quick");
  const port = freePort();
  const child = spawnDeno([...RUN, "--upstream", origin.addr, "--addr", `127.0.0.1:${port}`]);
  try {
    await child.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const res = await fetch(`http://localhost:${port}/hello?x=1`);
    assert.equal(res.status, 200);
    const echo = await res.json() as Echo;
    assert.equal(echo.name, "quick");
    assert.equal(echo.path, "/hello");
    assert.equal(echo.query, "x=1");
    // No file to read again: a reload compiles the same flags, which did not change.
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): config unchanged/);
    assert.equal(await child.stop(), 0);
    assert.match(child.output(), /GET \/hello\?x=1 HTTP\/1\.1" 200/, "access_log = combined");
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await origin.close();
  }
});

/** The status line of a GET with `host` over TLS to localhost:`port` (HTTP/1.1, no ALPN). */
async function tlsStatus(port: number, host: string, ca: string): Promise<string> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
  try {
    await conn.write(new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0]!;
  } finally {
    conn.close();
  }
}

Deno.test("quick start over TLS: --cert names a directory, the key is found beside it; --domain limits the hosts", async () => {
  const origin = await startEchoOrigin("tls");
  const pki = await makeTestPki([{ name: "localhost" }]);
  const leaf = pki.leaves.localhost!;
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/fullchain.pem`, leaf.cert);
  await Deno.writeTextFile(`${dir}/privkey.pem`, leaf.key);
  const port = freePort();
  const child = spawnDeno([
    ...RUN,
    "start",
    "--upstream",
    origin.addr,
    "--cert",
    dir,
    "--domain",
    "localhost",
    "--addr",
    `127.0.0.1:${port}`,
  ]);
  const client = Deno.createHttpClient({ caCerts: [pki.ca.cert] });
  try {
    await child.waitFor(/listening on https:\/\/127\.0\.0\.1:\d+/);
    const res = await fetch(`https://localhost:${port}/secure`, { client });
    assert.equal(res.status, 200);
    const echo = await res.json() as Echo;
    assert.equal(echo.name, "tls");
    assert.equal(echo.path, "/secure");
    assert.equal(await tlsStatus(port, "localhost", pki.ca.cert), "HTTP/1.1 200 OK");
    assert.match(await tlsStatus(port, "other.example", pki.ca.cert), /^HTTP\/1\.1 404 /, "a host not in --domain");
    assert.equal(await child.stop(), 0);
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    client.close();
    await child.stop();
    await origin.close();
    await pki.remove();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-t checks the config the quick-start flags make, with the compiler a file goes through", async () => {
  const pki = await makeTestPki([{ name: "localhost" }]);
  const leaf = pki.leaves.localhost!;
  try {
    const good = await cli([
      "-t",
      "--upstream",
      "127.0.0.1:9, 127.0.0.1:10",
      "--cert",
      leaf.certFile,
      "--key",
      leaf.keyFile,
    ]);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /\(quick start\): OK/);
    // A value the compiler refuses is reported at its flag, exit 1, as a config error is.
    const bad = await cli(["start", "--upstream", "127.0.0.1:9", "--addr", "127.0.0.1:99999", "-t"]);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /--addr:\d+:\d+ {2}servers\.pingap\.addr {2}error: Port 99999/);
    const badUpstream = await cli(["check", "--upstream", "127.0.0.1:9 x"]);
    assert.equal(badUpstream.code, 1, badUpstream.out);
    assert.match(badUpstream.out, /--upstream:\d+:\d+ {2}upstreams\.pingap\.addrs\[0\]/);
    // The key is looked up beside the certificate; here it has another name.
    const noKey = await cli(["-t", "--upstream", "127.0.0.1:9", "--cert", leaf.certFile]);
    assert.equal(noKey.code, 2, noKey.out);
    assert.match(noKey.out, /no private key found in .*expected one of: privkey\.pem, key\.pem/);
    const missing = await cli(["-t", "--upstream", "127.0.0.1:9", "--cert", "/nonexistent/cert.pem"]);
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /certificate \/nonexistent\/cert\.pem does not exist/);
    // --live runs the live checks of a -c config: host names resolve, the certificate parses.
    const garbage = `${pki.dir}/garbage.pem`;
    await Deno.writeTextFile(garbage, "not a certificate\n");
    const live = await cli([
      "-t",
      "--live",
      "--upstream",
      "nonexistent.invalid:80",
      "--cert",
      garbage,
      "--key",
      garbage,
    ]);
    assert.equal(live.code, 1, live.out);
    assert.match(
      live.out,
      /--upstream:\d+:\d+ {2}upstreams\.pingap\.addrs\[0\] {2}error: Host "nonexistent\.invalid" does not/,
    );
    assert.match(
      live.out,
      /--cert:\d+:\d+ {2}certificates\.pingap\.tls_cert {2}error: Certificate "pingap" cannot be parsed/,
    );
    // PINGAP_CONF is not read when the flags make the config.
    const env = await cli(["-t", "--upstream", "127.0.0.1:9"], { PINGAP_CONF: "/nonexistent/pingap" });
    assert.equal(env.code, 0, env.out);
  } finally {
    await pki.remove();
  }
});

Deno.test("quick-start flags in combinations Pingap refuses are usage errors (exit 2)", async () => {
  for (
    const [args, message] of [
      [["-t", "--upstream", " , "], /--upstream should not be empty/],
      [["-t", "--upstream", "127.0.0.1:9", "-c", `${ROOT}conf/`], /--upstream conflicts with -c/],
      [["-t", "--domain", "a.example"], /--domain needs --upstream/],
      [["-t", "-c", `${ROOT}conf/`, "--addr", "127.0.0.1:1"], /--addr needs --upstream/],
      [["-t", "--upstream", "127.0.0.1:9", "--key", "/tmp/k.pem"], /--key should be used with --cert/],
    ] as const
  ) {
    const r = await cli([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}\n${r.out}`);
    assert.match(r.out, message);
  }
});

Deno.test("flags that cannot apply here are refused with the reason, never ignored; so are their PINGAP_* fallbacks", async () => {
  const conf = ["-t", "-c", `${ROOT}conf/`];
  for (
    const [args, env, message] of [
      // Control-panel mode without an admin would serve nothing.
      [["--cp"], {}, /--cp \(control-panel mode: only the admin server runs\) needs --admin/],
      [[], { PINGAP_CP: "1" }, /PINGAP_CP \(control-panel mode.*needs --admin/],
      [["--to-hcl", "--to-kdl"], {}, /--to-hcl and --to-kdl: give one/],
      // The admin on an address other machines reach, without credentials: anyone could change the config.
      [["--admin", "0.0.0.0:3018"], {}, /--admin on 0\.0\.0\.0:3018 without credentials/],
      [[], { PINGAP_ADMIN_ADDR: "0.0.0.0:3018" }, /--admin on 0\.0\.0\.0:3018 without credentials/],
      [[], { PINGAP_ADMIN_ADDR: "0.0.0.0:3018", PINGAP_ADMIN_USER: "u" }, /without credentials/],
      [["--admin", "root@127.0.0.1:3018"], {}, /neither user:password nor the base64/],
      [["-d"], {}, /--daemon is not supported: Deno cannot fork/],
      [[], { PINGAP_DAEMON: "true" }, /--daemon is not supported/],
    ] as const
  ) {
    const r = await cli([...conf, ...args], env);
    assert.equal(r.code, 2, `${args.join(" ")} ${JSON.stringify(env)}\n${r.out}`);
    assert.match(r.out, message);
  }
});

Deno.test("--admin and its PINGAP_ADMIN_* fallbacks: check compiles the config with the admin added", async () => {
  const conf = ["check", "-c", `${ROOT}conf/`];
  for (
    const [args, env] of [
      [["--admin", "pingap:123123@127.0.0.1:3018"], {}],
      [["--admin", `${btoa("pingap:123123")}@0.0.0.0:3018/pingap?max_age=1h`], {}],
      [[], { PINGAP_ADMIN_ADDR: "0.0.0.0:3018/pingap", PINGAP_ADMIN_USER: "u", PINGAP_ADMIN_PASSWORD: "p" }],
      [["--admin", "127.0.0.1:3018"], {}],
    ] as const
  ) {
    const r = await cli([...conf, ...args], env);
    assert.equal(r.code, 0, `${args.join(" ")} ${JSON.stringify(env)}\n${r.out}`);
  }
});

Deno.test("--cp: only the admin server runs; it edits the config, which is not served, also after a reload", async () => {
  const origin = await startEchoOrigin("app");
  const webPort = freePort();
  const adminPort = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `[servers.web]\naddr = "127.0.0.1:${webPort}"\nlocations = ["app"]\n\n[locations.app]\nupstream = "app"\n\n` +
      `[upstreams.app]\naddrs = ["${origin.addr}"]\n`,
  );
  const child = spawnDeno([...RUN, "-c", file, "--cp", "--admin", `ops:0ps@127.0.0.1:${adminPort}`], { cwd: dir });
  const token = () => loginToken({ user: "ops", password: "0ps" }, Math.floor(Date.now() / 1000));
  const refused = async (port: number) => {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return false;
    } catch (e) {
      return e instanceof Deno.errors.ConnectionRefused;
    }
  };
  try {
    await child.waitFor(/pingap:admin listening on/);
    assert.match(child.output(), /control-panel mode \(--cp\): only the admin server runs/);
    const basic = await fetch(`http://127.0.0.1:${adminPort}/api/basic`, { headers: { authorization: await token() } });
    assert.equal(basic.status, 200);
    await basic.body?.cancel();
    const ups = await fetch(`http://127.0.0.1:${adminPort}/api/configs/upstream`, {
      headers: { authorization: await token() },
    });
    assert.deepEqual(Object.keys(await ups.json()), ["app"], "the admin reads the config it edits");
    assert.ok(await refused(webPort), "the config's server does not run");
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\)/);
    assert.ok(await refused(webPort), "nor after a reload");
    assert.equal(origin.count(), 0);
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--sync with the quick start writes the generated config, which then runs from -c", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli([
      "--upstream",
      "127.0.0.1:9,127.0.0.1:10",
      "--addr",
      "127.0.0.1:8081",
      "--sync",
      `${dir}/out.toml`,
    ]);
    assert.equal(r.code, 0, r.out);
    const text = await Deno.readTextFile(`${dir}/out.toml`);
    assert.match(text, /\[upstreams\.pingap\]\naddrs = \[ ?"127\.0\.0\.1:9", "127\.0\.0\.1:10" ?\]/);
    assert.match(text, /\[servers\.pingap\]\naddr = "127\.0\.0\.1:8081"/);
    const check = await cli(["-t", "-c", `${dir}/out.toml`]);
    assert.equal(check.code, 0, check.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PINGAP_CONF stands for -c", async () => {
  const r = await cli(["-t"], { PINGAP_CONF: `${ROOT}conf/` });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /conf\/: OK/);
  const missing = await cli(["-t"]);
  assert.equal(missing.code, 2, missing.out);
  assert.match(missing.out, /Missing -c PATH/);
});

/** {@linkcode versionedConfig} on `port` in front of `addr`, with its pid file in `dir`. */
function config(dir: string, addr: string, port: number, version: string): string {
  return `[basic]\npid_file = "${dir}/pingap.pid"\n${versionedConfig(addr, version, [port])}`;
}

for (const name of ["PINGAP_AUTORELOAD", "PINGAP_AUTORESTART"]) {
  Deno.test(`${name} stands for its flag: a config edit is applied; PINGAP_LOG stands for --log`, async () => {
    const origin = await startEchoOrigin("env");
    const dir = await Deno.makeTempDir();
    const file = `${dir}/pingap.toml`, log = `${dir}/app.log`;
    const port = freePort();
    await Deno.writeTextFile(file, config(dir, origin.addr, port, "a"));
    const child = spawnDeno([...RUN, "-c", file], { env: { [name]: "1", PINGAP_LOG: log } });
    const version = async () =>
      ((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Echo).headers["x-version"];
    try {
      for (let i = 0; !(await Deno.readTextFile(log).catch(() => "")).includes("listening on"); i++) {
        assert.ok(i < 300, `no "listening on" in ${log}:\n${child.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await version(), "a");
      await Deno.writeTextFile(file, config(dir, origin.addr, port, "b"));
      for (let i = 0; (await version()) !== "b"; i++) {
        assert.ok(i < 300, `the edit was not applied:\n${child.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await child.stop(), 0);
      assert.match(await Deno.readTextFile(log), /reload \(file change\)/);
    } catch (e) {
      console.error(child.output());
      throw e;
    } finally {
      await child.stop();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("PINGAP_UPGRADE stands for -u: the new process takes the port over and the old one exits", async () => {
  const origin = await startEchoOrigin("up");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  await Deno.writeTextFile(file, config(dir, origin.addr, port, "a"));
  const old = spawnDeno([...RUN, "-c", file]);
  let next: ReturnType<typeof spawnDeno> | undefined;
  try {
    await old.waitFor(/listening on/);
    // Without it, the busy port is an error.
    const refused = await cli(["-c", file]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /already in use/);
    next = spawnDeno([...RUN, "-c", file], { env: { PINGAP_UPGRADE: "1" } });
    await next.waitFor(new RegExp(`upgrade: took over from pid ${old.pid}`));
    assert.equal(await old.exited(), 0);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(((await res.json()) as Echo).name, "up");
    assert.equal(await next.stop(), 0);
  } catch (e) {
    console.error(old.output(), next?.output());
    throw e;
  } finally {
    await next?.stop();
    await old.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The HCL of {@linkcode versionedConfig}: one server, location and upstream; `version` in a request header. */
function hclConfig(origin: string, version: string, port: number): string {
  return `# served from HCL
server "s" {
  addr = "127.0.0.1:${port}"
  location "api" {
    path = "/"
    proxy_set_headers = ["X-Version:${version}"]
    upstream "main" {
      addrs = ["${origin}"]
    }
  }
}
`;
}

/** The same as KDL, split over two files of a directory. */
async function writeKdlDir(dir: string, origin: string, version: string, port: number): Promise<void> {
  await Deno.writeTextFile(`${dir}/upstreams.kdl`, `upstream "main" {\n    addrs "${origin}"\n}\n`);
  await Deno.writeTextFile(
    `${dir}/server.kdl`,
    `server "s" addr="127.0.0.1:${port}" {\n    location "api" path="/" {\n` +
      `        upstream "main"\n        proxy_set_headers "X-Version:${version}"\n    }\n}\n`,
  );
}

for (const kind of ["an HCL file", "a directory of KDL files"]) {
  Deno.test(`-c with ${kind}: start serves it and --autoreload applies an edit`, async () => {
    const origin = await startEchoOrigin("formats");
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const hcl = kind.includes("HCL");
    const conf = hcl ? `${dir}/pingap.hcl` : `${dir}/conf`;
    const write = async (v: string) => {
      if (hcl) await Deno.writeTextFile(conf, hclConfig(origin.addr, v, port));
      else await writeKdlDir(conf, origin.addr, v, port);
    };
    if (!hcl) await Deno.mkdir(conf);
    await write("a");
    const child = spawnDeno([...RUN, "start", "-c", conf, "--autoreload"]);
    const version = async () =>
      ((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Echo).headers["x-version"];
    try {
      await child.waitFor(/listening on/);
      assert.equal(await version(), "a");
      await write("b");
      for (let i = 0; (await version()) !== "b"; i++) {
        assert.ok(i < 300, `the edit was not applied:\n${child.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await child.stop(), 0);
    } catch (e) {
      console.error(child.output());
      throw e;
    } finally {
      await child.stop();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("check -c x.hcl / x.kdl names the file and the line of a bad key; bad syntax is an error, not a crash", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/x.hcl`,
      hclConfig("127.0.0.1:1", "a", 6188).replace('path = "/"', 'path = "/"\n    pathh = "/x"'),
    );
    const hcl = await cli(["check", "-c", `${dir}/x.hcl`]);
    assert.equal(hcl.code, 1, hcl.out);
    assert.match(hcl.out, /x\.hcl:6:5 +locations\.api\.pathh +error: Unknown key "pathh"/);
    await Deno.writeTextFile(`${dir}/x.kdl`, `upstream "u" {\n    addrs "127.0.0.1:1"\n    nope 1\n}\n`);
    const kdl = await cli(["check", "-c", `${dir}/x.kdl`]);
    assert.equal(kdl.code, 1, kdl.out);
    assert.match(kdl.out, /x\.kdl:3:5 +upstreams\.u\.nope +error: Unknown key "nope"/);
    await Deno.writeTextFile(`${dir}/y.hcl`, `server "s" {\n  addr = "127.0.0.1:1"\n  location "l" {\n}\n`);
    const bad = await cli(["-t", "-c", `${dir}/y.hcl`]);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /y\.hcl:1:12 +- +error: HCL syntax error: Unclosed configuration block/);
    assert.doesNotMatch(bad.out, /Uncaught|at .*\.ts:\d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const format of ["hcl", "kdl"]) {
  Deno.test(`--to-${format} prints the config as ${format.toUpperCase()}, which checks again; a broken config prints none`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [...RUN, `--to-${format}`, "-c", `${ROOT}tests/golden/plugins.toml`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(text, format === "hcl" ? /^server "web" \{\n {2}addr = / : /^upstream "app" \{\n {4}addrs /);
      await Deno.writeTextFile(`${dir}/back.${format}`, text);
      const back = await cli(["check", "-c", `${dir}/back.${format}`]);
      assert.equal(back.code, 0, back.out);
      // From the quick start too.
      const quick = await cli(["--upstream", "127.0.0.1:9", "--addr", "127.0.0.1:8081", `--to-${format}`]);
      assert.equal(quick.code, 0, quick.out);
      assert.match(quick.out, /127\.0\.0\.1:9/);
      await Deno.writeTextFile(`${dir}/broken.toml`, `[upstreams.u]\naddrs = []\n`);
      const broken = await cli([`--to-${format}`, "-c", `${dir}/broken.toml`]);
      assert.equal(broken.code, 1, broken.out);
      assert.doesNotMatch(broken.out, /upstream "u"/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
