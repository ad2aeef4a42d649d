/**
 * Inputs the config fuzzer (tests/fuzz/) found breaking the compiler's contract, each cut down to its minimum, with
 * what `check` now says: a TypeError thrown, a hang, NaN or Infinity in an accepted plan.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, formatPath, rustRegex, sourceFromBytes } from "../../compiler/mod.ts";

function errorsOf(text: string): string[] {
  const { diagnostics } = compileSources([{ file: "fuzz.toml", text }]);
  return diagnostics.filter((d) => d.severity === "error").map((d) => `${d.line}: ${formatPath(d.path)}: ${d.message}`);
}

Deno.test('fuzz: a key named like an Object.prototype member ("constructor") is an unknown key, not a TypeError', () => {
  for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__"]) {
    assert.deepEqual(errorsOf(`[upstreams.u]\naddrs = ["127.0.0.1:1"]\n"${name}" = 1\n`), [
      `3: upstreams.u.${name}: Unknown key "${name}" in [upstreams.<name>]`,
    ]);
    assert.deepEqual(errorsOf(`[basic]\n"${name}" = true\n`), [`2: basic.${name}: Unknown key "${name}" in [basic]`]);
  }
});

Deno.test("fuzz: an unknown key or plugin category of 10 MB is an error within the 10 s of a case, through the CLI", async () => {
  // The "did you mean" hint measured the edit distance to every known name: the value's length times each name's,
  // 2.6 s a megabyte here. A name cannot be within the hint's distance when the lengths differ by more.
  const dir = await Deno.makeTempDir({ prefix: "fuzz-huge-" });
  try {
    const huge = "a".repeat(10_000_000);
    await Deno.writeTextFile(`${dir}/pingap.toml`, `[basic]\n${huge} = 1\n\n[plugins.p]\ncategory = "${huge}"\n`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", "--allow-net", "mod.ts", "check", "--format", "json", "-c", dir],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    assert.equal(out.code, 1, `killed after 10 s, or not an error: signal ${out.signal}`);
    const report = JSON.parse(new TextDecoder().decode(out.stdout)) as { diagnostics: { code: string }[] };
    assert.deepEqual(report.diagnostics.map((d) => d.code).sort(), ["unknown-category", "unknown-key"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('fuzz: a duration or size that is no number ("10constructor", 400 nines) is an error, never NaN or Infinity in the plan', () => {
  const upstream = (line: string) => `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n${line}\n`;
  assert.deepEqual(errorsOf(upstream('connection_timeout = "10constructor"')), [
    '3: upstreams.u.connection_timeout: Unknown time unit "constructor" in "10constructor"',
  ]);
  assert.deepEqual(errorsOf(upstream('read_timeout = "9999999999999999999999s"')), [
    '3: upstreams.u.read_timeout: Duration "9999999999999999999999s" is longer than the longest a timer can hold (2^31-1 ms, about 24.8 days)',
  ]);
  const nines = "9".repeat(400);
  assert.deepEqual(errorsOf(upstream(`idle_timeout = "${nines}s"`)), [
    // A quoted value is shown up to 80 characters, then counted.
    `3: upstreams.u.idle_timeout: Duration "${
      nines.slice(0, 80)
    }…" (401 bytes) is longer than the longest a timer can hold (2^31-1 ms, about 24.8 days)`,
  ]);
  assert.deepEqual(errorsOf(upstream('tcp_recv_buf = "10constructor"')), [
    '3: upstreams.u.tcp_recv_buf: Unknown size unit "constructor" in "10constructor"',
  ]);
  assert.deepEqual(errorsOf(upstream(`tcp_recv_buf = "${nines}kb"`)), [
    `3: upstreams.u.tcp_recv_buf: Size "${nines.slice(0, 80)}…" (402 bytes) is too large`,
  ]);
});

Deno.test('fuzz: access_log = "constructor" is no preset (it threw a TypeError), and [[:toString:]] no POSIX class', () => {
  // Text with no {tag} that is no preset logs nothing of the request: Pingap 0.16 refuses it, and so does this
  // version, at the key (no TypeError).
  for (const value of ["constructor", "/tmp/access.log toString", "__proto__"]) {
    const { diagnostics } = compileSources([{
      file: "fuzz.toml",
      text: `[servers.s]\naddr = "127.0.0.1:1"\naccess_log = "${value}"\n`,
    }]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(
      errors.map((d) => [formatPath(d.path), d.code]),
      [["servers.s.access_log", "invalid-value"]],
      value,
    );
    assert.match(errors[0]!.message, /logs nothing of the request/);
  }
  // No POSIX class (Object.prototype.toString's source was put in the regex); Rust reads it as a nested class,
  // which JavaScript cannot, so it is refused.
  const r = rustRegex("^/[[:toString:]]");
  assert.ok(!r.ok);
  assert.match(r.message, /unknown ASCII class "\[:toString:\]"/);
});

Deno.test("fuzz: a header value past U+00FF (an emoji, the U+FFFD of invalid UTF-8) is a check error, not a 500 on every request", () => {
  assert.deepEqual(errorsOf('[locations.l]\nproxy_set_headers = ["X-A:\u{1F600}"]\n'), [
    '2: locations.l.proxy_set_headers[0]: Header value of "X-A:\u{1F600}" contains U+1F600, which a header cannot carry',
  ]);
  assert.deepEqual(errorsOf('[plugins.p]\ncategory = "response_headers"\nadd_headers = ["X-A:\uFFFD"]\n'), [
    '3: plugins.p.add_headers[0]: Header value of "X-A:\uFFFD" contains U+FFFD, which a header cannot carry',
  ]);
  // Latin-1 still passes: `Headers` sends it as one byte.
  assert.deepEqual(errorsOf('[locations.l]\nproxy_set_headers = ["X-A:\u00e9"]\n'), []);
});

Deno.test("fuzz: bytes that are not UTF-8 are a check error at their line and column (they were read as U+FFFD and accepted)", async () => {
  const bytes = new Uint8Array([
    ...new TextEncoder().encode('[basic]\nname = "a'),
    0xff,
    ...new TextEncoder().encode('"\n'),
  ]);
  const source = sourceFromBytes("fuzz.toml", bytes);
  assert.deepEqual(source.invalidUtf8, { line: 2, column: 10 });
  const { diagnostics } = compileSources([source]);
  assert.deepEqual(
    diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`),
    ["fuzz.toml:2:10 invalid-utf8 Bytes that are not UTF-8 (read as U+FFFD)"],
  );
  // Overlong forms, surrogates, a cut sequence and 0xff after valid multi-byte text; a BOM and U+FFFD itself are fine.
  for (const bad of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]]) {
    const s = sourceFromBytes("x", new Uint8Array([0xc3, 0xa9, 0x0a, 0x61, ...bad]));
    assert.deepEqual(s.invalidUtf8, { line: 2, column: 2 }, bad.join(","));
  }
  assert.equal(sourceFromBytes("x", new Uint8Array([0xef, 0xbb, 0xbf, 0x61])).text, "a");
  assert.equal(sourceFromBytes("x", new TextEncoder().encode("\uFFFD")).invalidUtf8, undefined);
  // Through the CLI: exit 1, not "OK".
  const dir = await Deno.makeTempDir({ prefix: "fuzz-utf8-" });
  try {
    await Deno.writeFile(`${dir}/pingap.toml`, bytes);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", "--allow-net", "mod.ts", "check", "-c", `${dir}/pingap.toml`],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), /pingap\.toml:2:10 .*error: Bytes that are not UTF-8/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
