/**
 * The `check` command as users run it: a subprocess, real files, exit
 * codes, and the three output formats.
 *
 * @module
 */
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

async function check(args: string[], permissions = ["--allow-read", "--allow-env"]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, `${root}mod.ts`, "check", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function tempConfig(text: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, text);
  return file;
}

const SIX_ERRORS = `[servers.web]
addr = "0.0.0.0:99999"
locations = ["api"]

[locations.api]
upstrem = "backend"
path = "~^/(api"
client_max_body_size = "10 parsecs"
proxy_set_headers = ["X-Real-IP $remote_addr"]
max_processing = "10"
upstream = "backend"

[upstreams.backend]
addrs = ["127.0.0.1:8080"]
`;

Deno.test("check exits 0 on the bundled conf/, offline, with network and writes denied", async () => {
  const r = await check(["-c", `${root}conf/`], [
    "--allow-read",
    "--allow-env",
    "--deny-net",
    "--deny-write",
    "--deny-run",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /OK/);
});

Deno.test("check prints six errors with file, line and key path, and exits 1", async () => {
  const file = await tempConfig(SIX_ERRORS);
  const r = await check(["-c", file]);
  assert.equal(r.code, 1);
  const errors = r.stderr.split("\n").filter((l) => l.includes(" error: "));
  assert.equal(errors.length, 6, r.stderr);
  for (
    const [line, key] of [
      [2, "servers.web.addr"],
      [6, "locations.api.upstrem"],
      [7, "locations.api.path"],
      [8, "locations.api.client_max_body_size"],
      [9, "locations.api.proxy_set_headers[0]"],
      [10, "locations.api.max_processing"],
    ] as const
  ) {
    assert.ok(
      errors.some((e) => e.startsWith(`${file}:${line}:`) && e.includes(`  ${key}  `)),
      `${key} at line ${line}\n${r.stderr}`,
    );
  }
  assert.match(r.stderr, /Did you mean "upstream"\?/);
  assert.match(r.stderr, /99999/);
  assert.match(r.stderr, /10 parsecs/);
});

Deno.test("check --format github prints one annotation per error with file and line", async () => {
  const file = await tempConfig(SIX_ERRORS);
  const r = await check(["-c", file, "--format", "github"]);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split("\n");
  const errors = lines.filter((l) => l.startsWith("::error "));
  assert.equal(errors.length, 6, r.stdout);
  for (const e of errors) {
    assert.match(e, new RegExp(`^::error file=${file.replaceAll("/", "\\/")},line=\\d+,col=\\d+,title=[^:]+::`));
  }
});

Deno.test("check --format json prints valid JSON with the diagnostics", async () => {
  const file = await tempConfig(SIX_ERRORS);
  const r = await check(["-c", file, "--format", "json"]);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.errors, 6);
  const keys = doc.diagnostics.map((d: { key: string }) => d.key);
  assert.ok(keys.includes("locations.api.upstrem"));
  for (const d of doc.diagnostics) assert.equal(typeof d.line, "number");
});

Deno.test("check reports a TOML syntax error with line and column, and exits 1", async () => {
  const file = await tempConfig('[basic]\nname = "x"\nthreads = [1,\n');
  const r = await check(["-c", file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file}:\\d+:\\d+  -  error: TOML syntax error`));
});

Deno.test("check exits 2 on a missing path and on bad usage", async () => {
  assert.equal((await check(["-c", "/nonexistent/pingap"])).code, 2);
  assert.equal((await check(["-c", `${root}conf/`, "--format", "xml"])).code, 2);
  assert.equal((await check(["--bogus"])).code, 2);
});

Deno.test("check reads a directory in the one-file-per-item layout and names both places of a duplicate", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/upstreams`);
  await Deno.mkdir(`${dir}/locations`);
  await Deno.writeTextFile(`${dir}/upstreams/a.toml`, '[upstreams.a]\naddrs = ["127.0.0.1:80"]\n');
  await Deno.writeTextFile(`${dir}/locations/l.toml`, '[locations.l]\nupstream = "a"\n');
  await Deno.writeTextFile(`${dir}/servers.toml`, '[servers.s]\naddr = "127.0.0.1:6100"\nlocations = ["l"]\n');
  assert.equal((await check(["-c", dir])).code, 0);
  await Deno.writeTextFile(`${dir}/upstreams.toml`, '\n[upstreams.a]\naddrs = ["127.0.0.1:81"]\n');
  const r = await check(["-c", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /upstreams\.a {2}error: Item "upstreams\.a" is defined twice/);
  assert.match(r.stderr, /also at .*upstreams\/a\.toml:1:1|also at .*upstreams\.toml:2:1/);
});

Deno.test("-t from another working directory, as the compiled executable runs: exit 0 on a good config, 1 on a bad one", async () => {
  const elsewhere = await Deno.makeTempDir();
  const bad = await tempConfig(SIX_ERRORS);
  try {
    const run = async (conf: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-env", `${root}mod.ts`, "-t", "-c", conf],
        cwd: elsewhere,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const good = await run(`${root}conf/`);
    assert.equal(good.code, 0, good.stderr);
    const broken = await run(bad);
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /locations\.api\.upstrem/);
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
    await Deno.remove(bad);
  }
});
