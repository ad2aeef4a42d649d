/**
 * The whole test suite, as `deno task test` (and `.ci/run`, via `npm test`)
 * runs it: format, lint, type check, then every test. Prints a closing
 * `N passed, N failed` line and exits non-zero on any failure.
 *
 * Tests that need a system component (etcd, pebble, prometheus, chromium)
 * find it through `tests/components.ts`, which installs what is missing
 * when running as root with apt, and otherwise makes those tests skip
 * loudly; with `CI=true` a missing component fails instead.
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

async function step(name: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  console.log(`\n=== ${name}: deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    out += text;
    await Deno.stdout.write(chunk);
  }
  const status = await child.status;
  return { ok: status.success, out };
}

if (Deno.env.get("CI") === "true") {
  try {
    await Deno.stat(new URL("../../shared/pingap-examples", import.meta.url));
  } catch {
    console.error("CI=true and ../shared/pingap-examples is missing: the compatibility tests cannot run");
    Deno.exit(1);
  }
}

const failures: string[] = [];
for (
  const [name, args] of [
    ["format", ["fmt", "--check"]],
    ["lint", ["lint"]],
    ["type check", ["check", "mod.ts", "compiler/", "runtime/", "tests/", "bench/"]],
  ] as const
) {
  const r = await step(name, [...args]);
  if (!r.ok) failures.push(name);
}
const tests = await step("tests", [
  "test",
  "--allow-all",
  "--unstable-net",
  "--unstable-no-legacy-abort",
  "--doc",
  "--no-check=remote",
]);
// deno-lint-ignore no-control-regex
const m = /(\d+) passed[^\n]*?\|\s*(\d+) failed/.exec(tests.out.replace(/\x1b\[[0-9;]*m/g, ""));
const passed = m ? Number(m[1]) : 0;
let failed = m ? Number(m[2]) : 0;
if (!tests.ok && failed === 0) failed = 1;
failed += failures.length;
console.log(
  `\n${failures.length ? `checks failed: ${failures.join(", ")}\n` : ""}tests: ${passed} passed, ${failed} failed`,
);
Deno.exit(failed === 0 && tests.ok ? 0 : 1);
