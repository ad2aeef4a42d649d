/**
 * `$ENV:NAME` / `$FILE:/path` references (addendum §A1.0): `check` and the
 * proxy read them from the real environment and files of their process;
 * an unset variable or an unreadable file is an error naming the key and
 * the variable or file; a duration or size field refuses one; and what a
 * reference stood for never shows in a diagnostic or a reload's log line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, formatPath } from "../compiler/mod.ts";
import { systemRefResolver } from "../runtime/storage/mod.ts";
import { until } from "./_support/load.ts";
import { freePort } from "./_support/origin.ts";
import { spawnDeno } from "./_support/process.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function check(file: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", `${ROOT}mod.ts`, "check", "-c", file],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

const site = (port: number, data: string, extra = "") =>
  `[basic]\nwebhook = "$ENV:PINGAP_TEST_HOOK"\n\n` +
  `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["root"]\n\n` +
  `[locations.root]\npath = "/"\nplugins = ["page"]\n\n` +
  `[plugins.page]\ncategory = "mock"\ndata = "${data}"\n${extra}`;

Deno.test("check reads $ENV: from its environment: set passes, unset is an error naming the key and the variable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pingap.toml`;
    await Deno.writeTextFile(file, site(freePort(), "hello"));
    const set = await check(file, { PINGAP_TEST_HOOK: "http://127.0.0.1:9/hook-s3cret" });
    assert.equal(set.code, 0, set.output);
    assert.doesNotMatch(set.output, /hook-s3cret/);
    const unset = await check(file);
    assert.equal(unset.code, 1, unset.output);
    assert.match(
      unset.output,
      /pingap\.toml:2:\d+ +basic\.webhook +error: Environment variable PINGAP_TEST_HOOK is not set \(\$ENV:PINGAP_TEST_HOOK\)/,
    );
    const empty = await check(file, { PINGAP_TEST_HOOK: "" });
    assert.equal(empty.code, 1);
    assert.match(empty.output, /basic\.webhook +error: Environment variable PINGAP_TEST_HOOK is empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check reads $FILE: (trailing newline dropped); a missing, empty or relative file is an error naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/pingap.toml`;
    const env = { PINGAP_TEST_HOOK: "http://127.0.0.1:9/" };
    await Deno.writeTextFile(file, site(freePort(), `$FILE:${dir}/page.txt`));
    const missing = await check(file, env);
    assert.equal(missing.code, 1);
    assert.match(
      missing.output,
      new RegExp(`plugins\\.page\\.data +error: File ${dir}/page\\.txt cannot be read: no such file`),
    );
    await Deno.writeTextFile(`${dir}/page.txt`, "\n");
    assert.match((await check(file, env)).output, /plugins\.page\.data +error: File .*page\.txt is empty/);
    await Deno.writeTextFile(`${dir}/page.txt`, "from a file\n");
    const ok = await check(file, env);
    assert.equal(ok.code, 0, ok.output);
    await Deno.writeTextFile(file, site(freePort(), "$FILE:page.txt"));
    const relative = await check(file, env);
    assert.equal(relative.code, 1);
    assert.match(relative.output, /plugins\.page\.data +error: \$FILE:page\.txt has to be an absolute path/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a reference in a duration or size field is refused, set or not, without its value", () => {
  const resolveRefs = systemRefResolver({ env: (n) => (n === "T" ? "private-10s" : undefined) });
  const text = '[upstreams.u]\naddrs = ["127.0.0.1:1"]\nread_timeout = "$ENV:T"\n\n' +
    '[locations.l]\nupstream = "u"\nclient_max_body_size = "$ENV:T"\n';
  const r = compileSources([{ file: "a.toml", text }], { resolveRefs });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => [formatPath(d.path), d.code]), [
    ["upstreams.u.read_timeout", "reference-not-text"],
    ["locations.l.client_max_body_size", "reference-not-text"],
  ]);
  assert.match(errors[0]!.message, /is not allowed in a duration or size field/);
  assert.ok(!JSON.stringify(r.diagnostics).includes("private-10s"));
  // A bad variable name is an error whatever the environment.
  const bad = compileSources([{ file: "a.toml", text: '[basic]\nname = "$ENV:MY-NAME"\n' }], { resolveRefs });
  assert.equal(bad.diagnostics[0]?.message, "$ENV:MY-NAME does not name an environment variable");
});

Deno.test("a resolved value is applied, and masked in a diagnostic about it", () => {
  const values: Record<string, string> = { ADDR: "not-an-address-s3cret", TOKEN: "abc-s3cret" };
  const resolveRefs = systemRefResolver({ env: (n) => values[n] });
  const text = '[servers.web]\naddr = "$ENV:ADDR"\n\n[plugins.p]\ncategory = "mock"\ndata = "$ENV:TOKEN"\n';
  const r = compileSources([{ file: "a.toml", text }], { resolveRefs });
  const addr = r.diagnostics.find((d) => formatPath(d.path) === "servers.web.addr");
  assert.ok(addr, JSON.stringify(r.diagnostics));
  assert.match(addr.message, /\$ENV:ADDR/);
  assert.ok(!JSON.stringify(r.diagnostics).includes("s3cret"), JSON.stringify(r.diagnostics));
  values.ADDR = "127.0.0.1:0";
  const ok = compileSources([{ file: "a.toml", text }], { resolveRefs });
  assert.ok(ok.plan, JSON.stringify(ok.diagnostics));
  assert.equal((ok.plan.plugins[0]!.config as { data: string }).data, "abc-s3cret");
  // Without a resolver (a tool storing the config for others) the reference stays as written.
  const kept = compileSources([{ file: "a.toml", text }]);
  assert.ok(kept.diagnostics.some((d) => d.message.includes("$ENV:ADDR")));
});

Deno.test("the proxy serves what a $FILE: names; a reload after it changes applies it, and neither its log nor its webhooks show the value", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const posts: string[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    posts.push(await req.text());
    return new Response(null, { status: 204 });
  });
  await Deno.writeTextFile(`${dir}/page.txt`, "first-private-text\n");
  await Deno.writeTextFile(
    file,
    site(port, `$FILE:${dir}/page.txt`).replace(
      "[servers.web]",
      'webhook_notifications = ["reload_config", "diff_config"]\nwebhook_batch_window = "300ms"\n\n[servers.web]',
    ),
  );
  const child = spawnDeno(
    ["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c", file],
    { env: { PINGAP_TEST_HOOK: `http://127.0.0.1:${receiver.addr.port}/hook` } },
  );
  try {
    await child.waitFor(/listening on/);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "first-private-text");
    // The config file is unchanged: only the file it refers to is.
    await Deno.writeTextFile(`${dir}/page.txt`, "second-private-text");
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): Plugin\(page\) is modified/);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "second-private-text");
    assert.doesNotMatch(child.output(), /private-text/);
    // Both webhooks went, merged into one post (webhook_batch_window), to the receiver the environment names,
    // saying what changed and not the value.
    await until(() => Promise.resolve(posts.length >= 1));
    const post = JSON.parse(posts[0]!);
    assert.equal(post.category, "reload_config,diff_config");
    assert.equal(
      post.message,
      "1. [info] reload_config: Plugin(page) is modified\n2. [info] diff_config: Plugin(page) is modified",
    );
    assert.ok(!posts.some((p) => p.includes("private-text")), posts.join("\n"));
  } finally {
    await child.stop();
    await receiver.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a reference that comes in through includes is resolved where it lands; the storage stays as written", () => {
  const resolveRefs = systemRefResolver({ env: (n) => (n === "SNI" ? "api.internal" : undefined) });
  const text = `[storages.shared]\ncategory = "config"\nvalue = 'sni = "$ENV:SNI"'\n\n` +
    `[upstreams.u]\naddrs = ["127.0.0.1:1"]\nincludes = ["shared"]\n`;
  const r = compileSources([{ file: "a.toml", text }], { resolveRefs });
  assert.ok(r.plan, JSON.stringify(r.diagnostics));
  assert.equal(r.plan.upstreams[0]!.sni, "api.internal");
  assert.equal(r.plan.storages[0]!.config.value, 'sni = "$ENV:SNI"');
});
