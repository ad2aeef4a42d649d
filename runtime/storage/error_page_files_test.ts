import assert from "node:assert/strict";
import { checkConfig } from "./check_config.ts";

Deno.test("check --live reads error_page files: a missing one is an error at its pages entry, a readable one passes", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(`${dir}/down.html`, "<h1>{{status}}</h1>");
  await Deno.writeTextFile(
    file,
    `[servers.s]\naddr = "127.0.0.1:1"\nlocations = ["l"]\n[upstreams.u]\naddrs = ["127.0.0.1:1"]\n` +
      `[locations.l]\nupstream = "u"\nplugins = ["p"]\n[plugins.p]\ncategory = "error_page"\n` +
      `pages = ["4xx: oops", "5xx: ${dir}/down.html", "404: ${dir}/missing.html"]\n`,
  );
  try {
    assert.equal((await checkConfig(file)).exitCode, 0, "files are read only with --live");
    const live = await checkConfig(file, { live: true });
    assert.equal(live.exitCode, 1);
    assert.deepEqual(live.diagnostics.map((d) => [d.code, d.path.join("."), d.line, Boolean(d.hint)]), [
      ["error-page-file", "plugins.p.pages.2", 11, true],
    ]);
    assert.match(live.diagnostics[0]!.message, /missing\.html can not be read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
