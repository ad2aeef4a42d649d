/**
 * HCL and KDL configs (Pingap's `config_convert.rs` rules): Pingap's own
 * `conf/test.hcl` and `conf/test.kdl` (read from ../shared/pingap-examples,
 * source commit in its SOURCE file) compile to the same Plan as the TOML
 * they stand for; each nesting rule and each duplicate is checked; errors
 * name the .hcl/.kdl file and the line in it; a directory of HCL files is
 * read when it holds no TOML; and `exportConfig` (`--to-hcl`/`--to-kdl`)
 * writes text that reads back to the same Plan. Real files, the real
 * parsers, no sockets.
 *
 * @module
 */
import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import { checkSources, type Diagnostic, parseSources, type Plan } from "../compiler/mod.ts";
import { checkConfig, exportConfig } from "../runtime/storage/mod.ts";
import { planJson } from "./golden_test.ts";

const SHARED = new URL("../../shared/pingap-examples/", import.meta.url).pathname;
const GOLDEN = new URL("./golden/", import.meta.url).pathname;

/** A Plan as data, without the names of the files it came from. */
function plan(p: Plan | undefined): unknown {
  assert.ok(p, "compiled");
  const { sources: _s, ...rest } = JSON.parse(planJson(p));
  return rest;
}

/** Checks `text` written to a temporary file named `name`. */
async function check(name: string, text: string) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    const r = await checkConfig(`${dir}/${name}`);
    const show = (d: Diagnostic) => `${d.file?.slice(dir.length + 1)}:${d.line}:${d.column} ${d.message}`;
    return { ...r, shown: r.diagnostics.map(show), errors: r.diagnostics.filter((d) => d.severity === "error") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The merged raw config of sources, as plain data. */
function rawOf(sources: Parameters<typeof parseSources>[0]): Record<string, Record<string, Record<string, unknown>>> {
  return JSON.parse(JSON.stringify(parseSources(sources).raw));
}

/** The Plan of a TOML text. */
function tomlPlan(text: string): unknown {
  const r = checkSources([{ file: "x.toml", text }]);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  return plan(r.plan);
}

// What conf/test.hcl and conf/test.kdl say, in TOML (items in name order, as the conversion gives them).
const TEST_TOML = `
[servers.test]
addr = "127.0.0.1:6118"
locations = ["github-api", "static"]

[locations.github-api]
path = "/api"
proxy_set_headers = ["Host:api.github.com"]
rewrite = "^/api/(?<path>.+)$ /$1"
upstream = "api"

[locations.static]
plugins = ["staticServe"]

[upstreams.api]
addrs = ["api.github.com:443"]
discovery = "dns"
sni = "api.github.com"

[plugins.staticServe]
category = "directory"
path = "~/Downloads"
step = "request"
`;

for (const file of ["test.hcl", "test.kdl"]) {
  Deno.test(`Pingap's conf/${file} compiles to the Plan of the TOML it stands for`, async () => {
    const r = await checkConfig(`${SHARED}conf/${file}`);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
    assert.deepEqual(plan(r.plan), tomlPlan(TEST_TOML));
    assert.deepEqual(r.plan!.sources, [`${SHARED}conf/${file}`]);
  });
}

Deno.test("HCL nesting: location in server, upstream and plugin in location, plugin and certificate hoisted", async () => {
  const r = await check(
    "n.hcl",
    `
server "web" {
  addr = "127.0.0.1:6188"
  locations = ["flat"]
  location "a" {
    path = "/a"
    plugins = ["pingap:ping"]
    upstream "up1" {
      addrs = ["127.0.0.1:1"]
    }
    upstream "up2" {
      addrs = ["127.0.0.1:2"]
    }
    plugin "p1" {
      category = "ping"
      path = "/p1"
    }
  }
  location "b" {
    path = "/b"
    upstream = "up2"
    upstream "up3" {
      addrs = ["127.0.0.1:3"]
    }
  }
  plugin "hoisted" {
    category = "ping"
    path = "/h"
  }
  certificate "c" {
    domains = "example.com"
  }
}
location "flat" {
  path = "/flat"
  upstream = "up1"
}
`,
  );
  const raw = rawOf(r.sources!);
  assert.deepEqual(raw.servers!.web!.locations, ["flat", "a", "b"], "nested locations appended to the list");
  assert.equal(raw.locations!.a!.upstream, "up1", "the first nested upstream, when none is set");
  assert.equal(raw.locations!.b!.upstream, "up2", "a location's own upstream wins over a nested one");
  assert.deepEqual(Object.keys(raw.upstreams!), ["up1", "up2", "up3"], "every nested upstream hoisted");
  assert.deepEqual(raw.locations!.a!.plugins, ["pingap:ping", "p1"], "nested plugins appended");
  assert.deepEqual(Object.keys(raw.plugins!), ["hoisted", "p1"]);
  assert.deepEqual(raw.certificates!.c, { domains: "example.com" });
  assert.ok(!("plugins" in raw.servers!.web!), "a plugin in a server is hoisted, not added to a list");
});

Deno.test("KDL nesting, arguments, always-array keys, repeated nodes and item children", async () => {
  const r = await check(
    "n.kdl",
    `
basic {
    name "kdl"
    webhook_notifications "reload_config"
}
server "web" addr="127.0.0.1:6188" {
    location "a" path="/a" {
        plugins "pingap:ping"
        upstream "up1" sni="x.test" {
            addrs "127.0.0.1:1" "127.0.0.1:2"
            addrs "127.0.0.1:3"
        }
        plugin "p1" category="ping" path="/p1"
    }
    location "b" {
        upstream "up1"
        proxy_set_headers "X-A:1"
        /- proxy_add_headers "X-Gone:1"
    }
}
plugin "rh" category="response_headers" {
    set_headers "X-One:1"
}
`,
  );
  assert.deepEqual(r.errors, [], r.shown.join("\n"));
  const raw = rawOf(r.sources!);
  assert.deepEqual(raw.basic, { name: "kdl", webhook_notifications: ["reload_config"] });
  assert.deepEqual(raw.servers!.web, { addr: "127.0.0.1:6188", locations: ["a", "b"] });
  assert.deepEqual(raw.locations!.a, { path: "/a", plugins: ["pingap:ping", "p1"], upstream: "up1" });
  assert.deepEqual(raw.locations!.b, { upstream: "up1", proxy_set_headers: ["X-A:1"] });
  assert.deepEqual(raw.upstreams!.up1, { sni: "x.test", addrs: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"] });
  assert.deepEqual(raw.plugins!.p1, { category: "ping", path: "/p1" });
  assert.deepEqual(raw.plugins!.rh!.set_headers, ["X-One:1"], "a key the schema types as a list");
});

Deno.test("duplicates: the same name twice in a section is an error naming both places", async () => {
  const hcl = await check(
    "d.hcl",
    `basic {
  name = "a"
}
basic {
  name = "b"
}
server "s" {
  addr = "127.0.0.1:1"
  location "l" {
    upstream "u" {
      addrs = ["127.0.0.1:1"]
    }
  }
}
upstream "u" {
  addrs = ["127.0.0.1:2"]
}
location "l" {
  path = "/"
}
`,
  );
  assert.equal(hcl.exitCode, 1);
  assert.ok(!hcl.plan);
  assert.deepEqual(hcl.errors.map((d) => [d.line, d.message, d.related?.[0]?.line]), [
    [4, `duplicate "basic" in basic`, 1],
    [15, `duplicate "u" in upstreams`, 10],
    [18, `duplicate "l" in locations`, 9],
  ]);
  const kdl = await check("d.kdl", `server "s" addr="127.0.0.1:1"\nserver "s" addr="127.0.0.1:2"\n`);
  assert.deepEqual(kdl.errors.map((d) => [d.line, d.message, d.related?.[0]?.line]), [
    [2, `duplicate "s" in servers`, 1],
  ]);
});

Deno.test("a bad key is reported at its line in the .hcl / .kdl file; every error at once", async () => {
  const hcl = await check(
    "bad.hcl",
    `# a comment with server "x" { in it
server "web" {
  addr = "127.0.0.1:6188"
  location "api" {
    path = "/api"
    upstream "app" {
      addrs   = ["127.0.0.1:1"]
      bogus   = 3
    }
  }
}
upstream "other" {
  addrs = ["127.0.0.1:2"]
  nope = "\${x}"
}
`,
  );
  assert.deepEqual(hcl.errors.map((d) => `${d.file?.replace(/.*\//, "")}:${d.line}:${d.column} ${d.message}`), [
    `bad.hcl:8:7 Unknown key "bogus" in [upstreams.<name>]`,
    `bad.hcl:14:3 Unknown key "nope" in [upstreams.<name>]`,
  ]);
  const kdl = await check(
    "bad.kdl",
    `server "web" addr="127.0.0.1:6188" {
    location "api" path="/api" {
        upstream "app" {
            addrs "127.0.0.1:1"
            bogus 3
        }
    }
}
`,
  );
  assert.deepEqual(kdl.errors.map((d) => `${d.file?.replace(/.*\//, "")}:${d.line}:${d.column} ${d.message}`), [
    `bad.kdl:5:13 Unknown key "bogus" in [upstreams.<name>]`,
  ]);
});

Deno.test("bad syntax is a diagnostic with the file and line, never a crash", async () => {
  const hcl = await check("s.hcl", `server "a" {\n  addr = \n}\n`);
  assert.equal(hcl.exitCode, 1);
  assert.equal(hcl.errors.length, 1);
  assert.equal(hcl.errors[0]!.line, 2);
  assert.match(hcl.errors[0]!.message, /^HCL syntax error: Invalid expression/);
  // Both parsers stop at their first syntax error.
  const kdl = await check("s.kdl", `server "a" {\n    addr true\n}\nupstream "u" {\n    sni x=\n}\n`);
  assert.equal(kdl.exitCode, 1);
  assert.deepEqual(kdl.errors.map((d) => [d.line, d.message]), [[2, `KDL syntax error: unexpected "true"`]]);
  assert.equal(kdl.errors[0]!.hint, "KDL v2 writes it #true");
  const open = await check("o.kdl", `upstream "u" {\n    addrs "x\n}\n`);
  assert.deepEqual(open.errors.map((d) => [d.line, d.message]).slice(0, 1), [
    [2, "KDL syntax error: unexpected line end (a string left open?)"],
  ]);
  const unknown = await check("u.hcl", `servre "a" {\n}\nserver {\n}\n`);
  assert.deepEqual(unknown.errors.map((d) => [d.line, d.message]), [
    [1, "unknown HCL block type: servre"],
    [3, "server block requires a name label"],
  ]);
});

Deno.test("a directory without .toml files is read as its .hcl files, sorted; .kdl only when there is no .hcl", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/b.hcl`, `upstream "u" {\n  addrs = ["127.0.0.1:1"]\n}\n`);
    await Deno.writeTextFile(
      `${dir}/sub/a.hcl`,
      `server "s" {\n  addr = "127.0.0.1:1"\n  location "l" {\n    upstream = "u"\n  }\n}\n`,
    );
    await Deno.writeTextFile(`${dir}/ignored.kdl`, `this is not read`);
    const r = await checkConfig(dir);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
    assert.deepEqual(r.plan!.sources, [`${dir}/b.hcl`, `${dir}/sub/a.hcl`]);
    await Deno.remove(`${dir}/b.hcl`);
    await Deno.remove(`${dir}/sub/a.hcl`);
    const kdl = await checkConfig(dir);
    assert.equal(kdl.exitCode, 1);
    assert.match(kdl.diagnostics[0]!.file!, /ignored\.kdl$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const format of ["hcl", "kdl"] as const) {
  Deno.test(`exportConfig(${format}) reads back to the same Plan (golden cases and Pingap's examples)`, async () => {
    const configs = [...Deno.readDirSync(GOLDEN)].filter((e) => e.name.endsWith(".toml")).map((e) => GOLDEN + e.name);
    configs.push(`${SHARED}examples/web-socket`, `${SHARED}examples/grpc-web`, `${SHARED}examples/transparent-proxy`);
    for (const conf of configs.sort()) {
      const r = await checkConfig(conf);
      assert.ok(r.plan, conf);
      const raw = parseSources(r.sources!).raw as Record<string, unknown>;
      // Items come back in name order: the expected Plan is the same config in that order.
      const sorted = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [
          k,
          k === "basic" ? v : Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => a < b ? -1 : 1)),
        ]),
      );
      const text = exportConfig(r.sources!, format);
      const back = await check(`back.${format}`, text);
      assert.deepEqual(back.errors, [], `${conf}\n${text}`);
      assert.deepEqual(plan(back.plan), tomlPlan(stringify(sorted)), conf);
    }
  });
}

Deno.test("exportConfig(hcl) nests as Pingap does, only where reading back keeps the config", () => {
  const text = exportConfig([{
    file: "x.toml",
    text: `
[servers.a]
addr = "127.0.0.1:1"
locations = ["l1", "l2"]
[servers.b]
addr = "127.0.0.1:2"
locations = ["l2"]
[locations.l1]
upstream = "u"
path = "/1"
plugins = ["p", "pingap:ping"]
[locations.l2]
upstream = "u"
plugins = ["p"]
[upstreams.u]
addrs = ["127.0.0.1:3"]
[plugins.p]
category = "ping"
path = "/p"
`,
  }], "hcl");
  // l2 is nested in server a: server b keeps its reference; u is nested in l1 only; l1 lists a built-in plugin,
  // so its plugins stay a list and p is nested in l2.
  assert.match(text, /server "a" \{\n {2}addr = "127\.0\.0\.1:1"\n\n {2}location "l1" \{/);
  assert.match(text, /server "b" \{\n {2}addr = "127\.0\.0\.1:2"\n {2}locations = \["l2"\]\n\}/);
  assert.match(text, /location "l1" \{\n {4}path = "\/1"\n {4}plugins = \["p", "pingap:ping"\]\n\n {4}upstream "u" \{/);
  assert.match(text, /location "l2" \{\n {4}upstream = "u"\n\n {4}plugin "p" \{/);
});

Deno.test("a multi-line string is a heredoc in --to-hcl output, reads back the same, and keys after it keep their line", async () => {
  const toml = `[plugins.m]\ncategory = "mock"\ndata = """\n{\n  "ok": true\n}\n"""\npath = "/m"\nstatus = 201\n`;
  const text = exportConfig([{ file: "x.toml", text: toml }], "hcl");
  assert.match(text, /data = <<-EOT\n {4}\{\n {6}"ok": true\n {4}\}\n {4}EOT\n/);
  const back = await check("m.hcl", text);
  assert.deepEqual(rawOf(back.sources!), rawOf([{ file: "x.toml", text: toml }]));
  const bad = await check("m.hcl", text.replace("  path = ", "  pathh = "));
  const at = text.split("\n").findIndex((l) => l.startsWith("  path = ")) + 1;
  assert.deepEqual(bad.errors.map((d) => [d.line, d.column, /Unknown key "pathh"/.test(d.message)]), [[at, 3, true]]);
});

Deno.test("KDL: a node without its name, and an unknown node type, are errors at their line", async () => {
  const r = await check("u.kdl", `upstream addrs="127.0.0.1:1"\nservre "a"\n`);
  assert.deepEqual(r.errors.map((d) => [d.line, d.message]), [
    [1, "'upstream' node requires a name as first argument"],
    [2, "unknown KDL node type: servre"],
  ]);
});
