/**
 * The config watch follows whatever has the config's name: files renamed
 * over it, directories moved into place, and edits inside them afterwards.
 * Real files in a temporary directory; many rounds, since re-arming a watch
 * on the same path is where it went wrong.
 */
import assert from "node:assert/strict";
import { watchConfig } from "./config_watch.ts";

/** Resolves true once `count()` reaches `n` (false after 3 s). */
async function reaches(count: () => number, n: number): Promise<boolean> {
  const end = Date.now() + 3_000;
  while (count() < n) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

Deno.test("watchConfig: 20 directory swaps by rename, each followed by an edit inside the new one, are all seen", async () => {
  const dir = await Deno.makeTempDir();
  const conf = `${dir}/conf`;
  await Deno.mkdir(conf);
  await Deno.writeTextFile(`${conf}/pingap.toml`, "# 0");
  let calls = 0;
  const errors: Error[] = [];
  const watch = watchConfig(conf, () => calls++, { debounceMs: 30, onError: (e) => errors.push(e) });
  try {
    for (let i = 1; i <= 20; i++) {
      await Deno.mkdir(`${dir}/conf.new`);
      await Deno.writeTextFile(`${dir}/conf.new/pingap.toml`, `# ${i}`);
      await Deno.rename(conf, `${dir}/conf.old${i}`);
      await Deno.rename(`${dir}/conf.new`, conf);
      assert.ok(await reaches(() => calls, calls + 1), `swap ${i} seen`);
      const seen = calls;
      await Deno.writeTextFile(`${conf}/pingap.toml`, `# ${i} edited`);
      assert.ok(await reaches(() => calls, seen + 1), `the edit after swap ${i} seen`);
    }
    assert.deepEqual(errors, []);
  } finally {
    watch.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchConfig: a file renamed over the config, then edited in place, then removed and written again", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, "# 0");
  await Deno.writeTextFile(`${dir}/other.txt`, "not the config");
  let calls = 0;
  const watch = watchConfig(file, () => calls++, { debounceMs: 30 });
  try {
    for (let i = 1; i <= 5; i++) {
      await Deno.writeTextFile(`${dir}/.tmp`, `# ${i}`);
      await Deno.rename(`${dir}/.tmp`, file);
      assert.ok(await reaches(() => calls, calls + 1), `rename ${i} seen`);
      const seen = calls;
      await Deno.writeTextFile(file, `# ${i} edited`);
      assert.ok(await reaches(() => calls, seen + 1), `the edit after rename ${i} seen`);
    }
    const before = calls;
    await Deno.remove(file);
    await Deno.writeTextFile(file, "# back");
    assert.ok(await reaches(() => calls, before + 1), "removed and written again: seen");
    // Another file in the same directory is not the config.
    await new Promise((r) => setTimeout(r, 100));
    const settled = calls;
    await Deno.writeTextFile(`${dir}/other.txt`, "changed");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls, settled, "a sibling's change is ignored");
  } finally {
    watch.close();
    await Deno.remove(dir, { recursive: true });
  }
});
