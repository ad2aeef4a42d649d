import assert from "node:assert/strict";
import { requireComponent, which } from "./components.ts";

Deno.test("which: finds executables on PATH and in the system dirs", async () => {
  assert.match((await which("sh")) ?? "", /^\/.*\/sh$/);
  assert.equal(await which("pingap-no-such-binary"), undefined);
});

Deno.test("requireComponent: present binaries are returned by name, cached", async () => {
  const spec = { binaries: ["sh", "ls"] as const, aptPackages: [] };
  const a = await requireComponent("etcd", spec);
  assert.ok(a);
  assert.match(a.sh, /\/sh$/);
  assert.match(a.ls, /\/ls$/);
  assert.equal(requireComponent("etcd", spec), requireComponent("etcd", spec));
});

async function child(ci: string): Promise<{ code: number; out: string }> {
  const code = `import { requireComponent } from ${JSON.stringify(new URL("./components.ts", import.meta.url).href)};
const r = await requireComponent("prometheus", { binaries: ["pingap-no-such-binary"], aptPackages: [] });
console.log("result:", r);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    env: { CI: ci, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout) + d.decode(out.stderr) };
}

Deno.test("requireComponent: missing → loud warning and undefined; with CI=true → throws", async () => {
  const local = await child("");
  assert.equal(local.code, 0, local.out);
  assert.match(local.out, /!!! COMPONENT "prometheus" IS MISSING: pingap-no-such-binary not found/);
  assert.match(local.out, /SKIPPED/);
  assert.match(local.out, /result: undefined/);
  const ci = await child("true");
  assert.notEqual(ci.code, 0, ci.out);
  assert.match(ci.out, /CI=true: the tests that need it FAIL/);
  assert.doesNotMatch(ci.out, /result:/);
});
