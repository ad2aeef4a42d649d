import assert from "node:assert/strict";
import { type CompileResult, compileSources } from "./compile.ts";
import { type Diagnostic, formatPath } from "./diagnostic.ts";
import { readSources } from "../runtime/storage/mod.ts";
import type { Source } from "./load.ts";
import { SECTIONS } from "./schema/mod.ts";
import { decodeTable, table, type TableSchema } from "./schema/types.ts";
import { PLUGINS } from "./plugins/mod.ts";
import { lookupRoute } from "./routes/lookup.ts";

const EXAMPLES = new URL("../../shared/pingap-examples/", import.meta.url);

function compileText(text: string, file = "inline.toml") {
  return compileSources([{ file, text }]);
}

function errors(diags: readonly Diagnostic[]): Diagnostic[] {
  return diags.filter((d) => d.severity === "error");
}

function show(d: Diagnostic): string {
  const where = d.file === undefined ? "" : `${d.file}:${d.line ?? "?"}:${d.column ?? "?"}: `;
  return `${where}${d.severity} [${d.code}] ${formatPath(d.path)}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`;
}

/** Directories under the examples holding `.toml` files, and those files, by directory. */
async function exampleTree(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  async function walk(dir: URL): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir));
      else if (entry.isFile && entry.name.endsWith(".toml")) {
        const key = dir.pathname;
        out.set(key, [...(out.get(key) ?? []), `${dir.pathname}${entry.name}`].sort());
      }
    }
  }
  await walk(EXAMPLES);
  return out;
}

// ---------------------------------------------------------------- (a) Pingap's own configs

/**
 * The errors of a Pingap example besides "not supported": plugin kinds this
 * version cannot run are refused (fail closed, docs/differences.md), and
 * nothing else may fail. Without such an error the example must compile.
 */
function assertOnlyUnsupported(label: string, result: CompileResult, other: (d: Diagnostic) => boolean = () => true) {
  const unsupported = errors(result.diagnostics).filter((d) => d.code === "not-supported");
  for (const d of unsupported) assert.match(d.message, /is not supported by this version/, label);
  const rest = errors(result.diagnostics).filter((d) => d.code !== "not-supported" && other(d));
  assert.deepEqual(rest.map(show), [], `${label} has errors besides unsupported plugins`);
  if (errors(result.diagnostics).length === 0) assert.ok(result.plan, label);
  return unsupported.length;
}

Deno.test("compileSources() compiles every example directory of Pingap with no error but unsupported plugins", async () => {
  const tree = await exampleTree();
  assert.ok(tree.size >= 6, `expected the example directories, found ${[...tree.keys()]}`);
  let unsupported = 0, compiled = 0;
  for (const dir of tree.keys()) {
    const result = compileSources(await readSources(dir));
    const label = dir.slice(EXAMPLES.pathname.length) || ".";
    for (const d of result.diagnostics) console.log(`  ${label}: ${show(d)}`);
    unsupported += assertOnlyUnsupported(label, result);
    if (result.plan) compiled++;
  }
  console.log(`${compiled} of ${tree.size} example directories compile; ${unsupported} unsupported-plugin errors`);
  assert.ok(unsupported > 0, "the examples use plugin kinds this version refuses");
  assert.ok(compiled > 0, "some examples compile");
});

Deno.test("compileSources() compiles every stand-alone example file of Pingap with no error but unsupported plugins", async () => {
  const tree = await exampleTree();
  let count = 0;
  for (const files of tree.values()) {
    for (const file of files) {
      const result = compileSources(await readSources(file));
      const label = file.slice(EXAMPLES.pathname.length);
      if (files.length === 1) {
        // The file is a whole config: it must compile, unsupported plugins aside.
        for (const d of result.diagnostics) console.log(`  ${label}: ${show(d)}`);
        assertOnlyUnsupported(label, result);
        count++;
      } else {
        // One file of a split config: only its references to the other files (and unsupported plugins) may fail.
        assertOnlyUnsupported(label, result, (d) => d.code !== "unknown-reference");
      }
    }
  }
  assert.ok(count >= 3, `only ${count} stand-alone files`);
});

// ---------------------------------------------------------------- (b) one mistake, one error

interface ErrorCase {
  readonly name: string;
  readonly text: string;
  readonly path: readonly (string | number)[];
  readonly code?: string;
  readonly message?: RegExp;
  readonly hint?: RegExp;
}

const ERROR_CASES: readonly ErrorCase[] = [
  {
    name: "an unknown upstream in a location",
    text: '[locations.lo]\npath = "/"\nupstream = "nope"\n',
    path: ["locations", "lo", "upstream"],
    code: "unknown-reference",
    message: /"nope"/,
  },
  {
    name: "an unknown location in a server",
    text: '[servers.s]\naddr = "0.0.0.0:80"\nlocations = ["nope"]\n',
    path: ["servers", "s", "locations", 0],
    code: "unknown-reference",
    message: /"nope"/,
  },
  {
    name: "an unknown plugin in a location's plugins",
    text: '[locations.lo]\nplugins = ["pingap:ping", "nope"]\n',
    path: ["locations", "lo", "plugins", 1],
    code: "unknown-reference",
    message: /"nope"/,
  },
  {
    name: "a misspelt key",
    text: '[upstreams.u]\naddrs = ["127.0.0.1:80"]\n[locations.lo]\nupstrem = "u"\n',
    path: ["locations", "lo", "upstrem"],
    code: "unknown-key",
    hint: /upstream/,
  },
  {
    name: "a listen port out of range",
    text: '[servers.s]\naddr = "0.0.0.0:99999"\n',
    path: ["servers", "s", "addr"],
    message: /99999/,
  },
  {
    name: "an address weight that is not a number",
    text: '[upstreams.u]\naddrs = ["127.0.0.1:80 abc"]\n',
    path: ["upstreams", "u", "addrs", 0],
    message: /"abc"/,
  },
  {
    name: "an unclosed regex in path",
    text: '[locations.lo]\npath = "~^/(api"\n',
    path: ["locations", "lo", "path"],
    message: /\^\/\(api/,
  },
  {
    name: "an unclosed regex in rewrite",
    text: '[locations.lo]\nrewrite = "^/(api /x"\n',
    path: ["locations", "lo", "rewrite"],
    message: /\^\/\(api/,
  },
  {
    name: "a size with an unknown unit",
    text: '[locations.lo]\nclient_max_body_size = "10 parsecs"\n',
    path: ["locations", "lo", "client_max_body_size"],
    message: /parsecs/,
  },
  {
    name: 'a proxy_set_headers line without ":"',
    text: '[locations.lo]\nproxy_set_headers = ["X-Request-Id"]\n',
    path: ["locations", "lo", "proxy_set_headers", 0],
    message: /X-Request-Id/,
  },
  {
    name: "an unknown plugin category",
    text: '[plugins.p]\ncategory = "pnig"\n',
    path: ["plugins", "p", "category"],
    code: "unknown-category",
    hint: /[Dd]id you mean "ping"/,
  },
  {
    name: "a plugin key with a bad value",
    text: '[plugins.p]\ncategory = "mock"\nstatus = "abc"\n',
    path: ["plugins", "p", "status"],
    message: /"abc"/,
  },
  {
    name: "a string where a number belongs",
    text: '[locations.lo]\nmax_processing = "10"\n',
    path: ["locations", "lo", "max_processing"],
    code: "wrong-type",
    hint: /10/,
  },
];

for (const c of ERROR_CASES) {
  Deno.test(`compileSources() reports ${c.name} at ${formatPath(c.path)} with a line`, () => {
    const { plan, diagnostics } = compileText(c.text, "case.toml");
    assert.equal(plan, undefined);
    const errs = errors(diagnostics);
    const d = errs.find((e) => formatPath(e.path) === formatPath(c.path));
    assert.ok(d, `no error at ${formatPath(c.path)}; got ${errs.map(show).join("; ")}`);
    assert.equal(d.file, "case.toml");
    assert.equal(typeof d.line, "number", show(d));
    assert.ok(d.line! >= 2, `line of ${show(d)}`);
    if (c.code) assert.equal(d.code, c.code);
    if (c.message) assert.match(d.message, c.message);
    if (c.hint) assert.match(d.hint ?? "", c.hint);
  });
}

Deno.test("compileSources() reports a TOML syntax error with line and column", () => {
  const { plan, diagnostics } = compileText('[upstreams.u]\naddrs = ["127.0.0.1:80"\n[locations.lo]\n', "bad.toml");
  assert.equal(plan, undefined);
  const [d] = errors(diagnostics);
  assert.ok(d);
  assert.equal(d.code, "toml-syntax");
  assert.equal(d.file, "bad.toml");
  assert.equal(d.line, 3);
  assert.equal(typeof d.column, "number");
});

Deno.test("compileSources() points a misspelt key at its own line", () => {
  const { diagnostics } = compileText(
    '[upstreams.u]\naddrs = ["127.0.0.1:80"]\n[locations.lo]\npath = "/"\nupstrem = "u"\n',
  );
  const d = errors(diagnostics).find((e) => e.code === "unknown-key");
  assert.equal(d?.line, 5);
  assert.equal(d?.column, 1);
});

// ---------------------------------------------------------------- (c) every mistake in one run

Deno.test("compileSources() reports six mistakes in one file in one run", () => {
  const text = [
    "[upstreams.u]",
    'addrs = ["127.0.0.1:80 abc"]',
    "[locations.a]",
    'upstream = "nope"',
    'path = "~^/(api"',
    "[locations.b]",
    'client_max_body_size = "10 parsecs"',
    'max_processing = "10"',
    "upstrem = 1",
    "[plugins.p]",
    'category = "pnig"',
    "[servers.s]",
    'addr = "0.0.0.0:99999"',
    'locations = ["a", "b", "missing"]',
  ].join("\n");
  const { plan, diagnostics } = compileText(text);
  assert.equal(plan, undefined);
  const errs = errors(diagnostics);
  const paths = new Set(errs.map((d) => formatPath(d.path)));
  for (
    const p of [
      "upstreams.u.addrs[0]",
      "locations.a.path",
      "locations.b.client_max_body_size",
      "locations.b.max_processing",
      "locations.b.upstrem",
      "plugins.p.category",
      "servers.s.addr",
    ]
  ) assert.ok(paths.has(p), `missing error at ${p}; got ${[...paths].join(", ")}`);
  assert.ok(errs.length >= 6, `${errs.length} errors`);
  for (const d of errs) assert.equal(typeof d.line, "number", show(d));
});

// ---------------------------------------------------------------- (d) duplicates across files

Deno.test("compileSources() reports an item defined in two files, naming the other file", () => {
  const sources: Source[] = [
    { file: "conf/a.toml", text: '[upstreams.x]\naddrs = ["127.0.0.1:80"]\n' },
    { file: "conf/b.toml", text: '# second\n[upstreams.x]\naddrs = ["127.0.0.1:81"]\n' },
  ];
  const { plan, diagnostics } = compileSources(sources);
  assert.equal(plan, undefined);
  const d = errors(diagnostics).find((e) => e.code === "duplicate-item");
  assert.ok(d, diagnostics.map(show).join("; "));
  assert.deepEqual(d.path, ["upstreams", "x"]);
  assert.equal(d.file, "conf/b.toml");
  assert.equal(d.line, 2);
  assert.ok(d.related?.some((o) => o.file === "conf/a.toml" && o.line === 1), JSON.stringify(d.related));
});

// ---------------------------------------------------------------- (e) structuredClone

const ROUTED = `
[upstreams.api]
addrs = ["127.0.0.1:8080"]
[locations.users]
upstream = "api"
path = "~^/users/(?P<id>\\\\d+)$"
host = "~^(?<sub>[a-z]+)\\\\.example\\\\.com$"
rewrite = "^/users/(.*)$ /u/$1"
[locations.static]
upstream = "api"
path = "/static"
host = "*.example.com"
plugins = ["pingap:ping"]
[servers.s]
addr = "127.0.0.1:6188"
locations = ["static", "users"]
`;

Deno.test("compileSources() returns a plan that survives structuredClone with working RegExps", () => {
  const { plan, diagnostics } = compileText(ROUTED);
  assert.ok(plan, diagnostics.map(show).join("; "));
  const copy = structuredClone(plan);
  assert.deepEqual(copy, plan);
  const users = copy.locations.find((l) => l.name === "users")!;
  assert.equal(users.path.kind, "regex");
  if (users.path.kind === "regex") {
    assert.ok(users.path.regex instanceof RegExp);
    assert.equal(users.path.regex.exec("/users/42")?.groups?.id, "42");
  }
  assert.ok(users.rewrite?.regex.test("/users/1"));
  const server = copy.servers[0]!;
  assert.ok(server.routes.hosts.children instanceof Map);
  assert.ok(server.routes.plain instanceof Uint8Array);
  const ranked = server.locations.map((i) => copy.locations[i]!);
  const req = (host: string, path: string) => ({
    host,
    path,
    header: () => null,
    query: () => undefined,
    cookie: () => undefined,
  });
  assert.equal(ranked[lookupRoute(server.routes, ranked, req("a.example.com", "/static/x"))]?.name, "static");
  assert.equal(ranked[lookupRoute(server.routes, ranked, req("a.example.com", "/users/7"))]?.name, "users");
  assert.equal(lookupRoute(server.routes, ranked, req("example.com", "/users/x")), -1);
});

// ---------------------------------------------------------------- (f) hash

Deno.test("compileSources() gives the same hash for reordered TOML and a new one for a changed value", () => {
  const a = compileText(ROUTED).plan!;
  const reordered = compileText(`
[servers.s]
locations = ["static", "users"]
addr = "127.0.0.1:6188"
[locations.static]
plugins = ["pingap:ping"]
host = "*.example.com"
path = "/static"
upstream = "api"
[locations.users]
rewrite = "^/users/(.*)$ /u/$1"
upstream = "api"
host = "~^(?<sub>[a-z]+)\\\\.example\\\\.com$"
path = "~^/users/(?P<id>\\\\d+)$"
[upstreams.api]
addrs = ["127.0.0.1:8080"]
`).plan!;
  assert.equal(reordered.hash, a.hash);
  assert.equal(compileText(ROUTED).plan!.hash, a.hash);
  const changed = compileText(ROUTED.replace("127.0.0.1:8080", "127.0.0.1:8081")).plan!;
  assert.notEqual(changed.hash, a.hash);
  const split = compileSources([
    { file: "one.toml", text: ROUTED.slice(0, ROUTED.indexOf("[locations.static]")) },
    { file: "two.toml", text: ROUTED.slice(ROUTED.indexOf("[locations.static]")) },
  ]).plan!;
  assert.equal(split.hash, a.hash);
});

// ---------------------------------------------------------------- misc vectors

Deno.test("compileSources() keeps the plugin category request_id as written (row 44)", () => {
  const { plan, diagnostics } = compileText(
    '[plugins.rid]\ncategory = "request_id"\n[locations.lo]\nplugins = ["rid"]\n',
  );
  assert.ok(plan, diagnostics.map(show).join("; "));
  assert.equal(plan.plugins[0]?.category, "request_id");
  assert.equal(plan.locations[0]?.plugins[0], 0);
});

Deno.test("compileSources() orders a server's locations by weight, ties in config order", () => {
  const { plan } = compileText(`
[locations.any]
[locations.prefix]
path = "/api"
[locations.exact]
path = "=/api"
[locations.regex]
path = "~/api"
[locations.host]
host = "a.com"
[locations.heavy]
weight = 4000
[servers.s]
addr = "127.0.0.1:1"
locations = ["any", "prefix", "exact", "regex", "host", "heavy"]
`);
  assert.ok(plan);
  assert.deepEqual(plan.servers[0]!.locations.map((i) => plan.locations[i]!.name), [
    "heavy",
    "exact",
    "prefix",
    "regex",
    "host",
    "any",
  ]);
});

Deno.test("compileSources() checks ACME certificates: domains needed, wildcards only by dns-01, directory a URL", () => {
  const r = compileText(`
[certificates.none]
acme = "lets_encrypt"
[certificates.wild]
domains = "*.example.com"
acme = "lets_encrypt"
[certificates.wild_dns]
domains = "*.example.com"
acme = "lets_encrypt"
dns_challenge = true
acme_directory = "https://acme-staging-v02.api.letsencrypt.org/directory"
[certificates.bad_dir]
domains = "example.com"
acme = "lets_encrypt"
acme_directory = "staging"
`);
  assert.deepEqual(errors(r.diagnostics).map((d) => `${formatPath(d.path)}: ${d.message}`), [
    'certificates.none.domains: Certificate "none" uses ACME but has no domains',
    'certificates.wild.domains: ACME issues "*.example.com" only through dns-01',
    'certificates.bad_dir.acme_directory: Invalid ACME directory URL "staging": acme_directory(staging) should be an https url',
  ]);
});

// ---------------------------------------------------------------- (c) fail closed on plugins

/** Every plugin kind runs since image_optim (issue 19): the refusal tests below wait for a kind without a half. */
const NONE_REFUSED = [...PLUGINS.values()].every((d) => d.runtime === true);

Deno.test({
  name: "compileSources() refuses plugin kinds without a runtime half at their category; every built-in runs",
  ignore: NONE_REFUSED,
}, () => {
  const { plan, diagnostics } = compileText(`[upstreams.u]
addrs = ["127.0.0.1:8080"]

[locations.a]
upstream = "u"
plugins = ["pingap:compression", "pingap:ping", "unused"]

[locations.b]
upstream = "u"
path = "/b"
plugins = ["pingap:acceptEncodingAdjustment", "pingap:compressionUpstream"]

[plugins.unused]
category = "image_optim"
output_types = "webp"
`);
  assert.equal(plan, undefined);
  assert.deepEqual(errors(diagnostics).map((d) => [d.code, formatPath(d.path), d.line]), [
    ["not-supported", "plugins.unused.category", 14],
  ]);
  const table = errors(diagnostics)[0]!;
  assert.match(table.message, /^Plugin category "image_optim" is not supported by this version/);
  assert.match(table.hint ?? "", /supported categories: [a-z_, ]*mock, [a-z_, ]*ping,/);
  // Neither a second error at the location's use nor an "unused" warning for a refused plugin.
  assert.ok(!diagnostics.some((d) => formatPath(d.path) === "locations.a.plugins[2]"));
});

Deno.test({ name: "compileSources() still reports the keys of a refused plugin", ignore: NONE_REFUSED }, () => {
  const { diagnostics } = compileText(
    `[plugins.img]\ncategory = "image_optim"\noutput_types = "webp"\npng_quality = 101\n`,
  );
  assert.deepEqual(errors(diagnostics).map((d) => [d.code, formatPath(d.path)]), [
    ["not-supported", "plugins.img.category"],
    ["out-of-range", "plugins.img.png_quality"],
  ]);
});

// ---------------------------------------------------------------- (d) durations a timer can hold

Deno.test("compileSources() refuses a connection_timeout no timer can hold, at its key, with a hint", () => {
  const { plan, diagnostics } = compileText(
    '[upstreams.u]\naddrs = ["127.0.0.1:8080"]\nconnection_timeout = "9999999999999999999999s"\n',
  );
  assert.equal(plan, undefined);
  const [d, ...rest] = errors(diagnostics);
  assert.deepEqual(rest, []);
  assert.equal(formatPath(d!.path), "upstreams.u.connection_timeout");
  assert.equal(d!.line, 3);
  assert.equal(d!.code, "out-of-range");
  assert.match(d!.message, /"9999999999999999999999s" is longer than the longest a timer can hold/);
  assert.equal(d!.hint, 'Use at most "24d"');
  // The bound itself passes; one millisecond more does not.
  const at = (v: string) => compileText(`[upstreams.u]\naddrs = ["127.0.0.1:8080"]\nread_timeout = "${v}"\n`);
  assert.deepEqual(errors(at("2147483647ms").diagnostics), []);
  assert.equal(errors(at("2147483648ms").diagnostics)[0]?.code, "out-of-range");
});

Deno.test("every duration key, in every section and plugin, refuses a value no timer (or max-age) can hold", () => {
  const tables: [string, TableSchema][] = [
    ...SECTIONS.map((s) => [s.key, s.schema] as [string, TableSchema]),
    ...[...PLUGINS.values()].map((d) =>
      [`plugins(${d.category})`, table({ title: d.category, doc: "", fields: d.fields })] as [string, TableSchema]
    ),
  ];
  let count = 0;
  for (const [where, schema] of tables) {
    for (const [key, f] of Object.entries(schema.fields)) {
      if (f.type.name !== "duration") continue;
      count++;
      const diags: Diagnostic[] = [];
      decodeTable(schema, { [key]: "9999999999999999999999s" }, ["t"], diags);
      const d = diags.find((x) => formatPath(x.path) === `t.${key}` && x.severity === "error");
      assert.ok(d, `${where}.${key} accepts a duration no timer can hold`);
      assert.equal(d.code, "out-of-range", `${where}.${key}`);
      assert.match(d.hint ?? "", /^Use at most "(24d|68y)"$/, `${where}.${key}`);
    }
  }
  assert.ok(count >= 30, `only ${count} duration keys found`);
  // The same bound inside values that carry durations in a query string.
  const nested = compileText(
    '[upstreams.u]\naddrs = ["127.0.0.1:8080"]\nhealth_check = "http://u/ping?check_frequency=30d"\n',
  );
  assert.match(errors(nested.diagnostics)[0]?.message ?? "", /check_frequency: Duration "30d" is longer than/);
});

Deno.test("compileSources() checks the durations inside otlp_exporter and prometheus_metrics URLs", () => {
  const server = (key: string, value: string) =>
    compileText(`[servers.s]\naddr = "127.0.0.1:6188"\n${key} = "${value}"\n`).diagnostics;
  assert.deepEqual(errors(server("otlp_exporter", "http://127.0.0.1:4318?timeout=3s&scheduled_delay=500ms")), []);
  assert.deepEqual(errors(server("prometheus_metrics", "http://gw:9091/metrics/job/p?interval=2m")), []);
  for (
    const [key, value, param] of [
      ["otlp_exporter", "http://127.0.0.1:4318?max_export_timeout=30d", "max_export_timeout"],
      ["otlp_exporter", "127.0.0.1:4318?timeout=3", "timeout"],
      ["prometheus_metrics", "http://gw:9091/metrics/job/p?interval=9999999999999999999999s", "interval"],
    ] as const
  ) {
    const [d, ...rest] = errors(server(key, value));
    assert.deepEqual(rest, [], value);
    assert.equal(formatPath(d!.path), `servers.s.${key}`);
    assert.match(d!.message, new RegExp(`^Parameter ${param}: `));
  }
});

Deno.test("compileSources() refuses grace_period + graceful_shutdown_timeout longer than one timer holds", () => {
  const basic = (a: string, b: string) =>
    compileText(`[basic]\ngrace_period = "${a}"\ngraceful_shutdown_timeout = "${b}"\n`).diagnostics;
  assert.deepEqual(errors(basic("20d", "4d")), []);
  const [d, ...rest] = errors(basic("20d", "5d"));
  assert.deepEqual(rest, []);
  assert.equal(formatPath(d!.path), "basic.graceful_shutdown_timeout");
  assert.equal(d!.code, "out-of-range");
});
