import assert from "node:assert/strict";
import { parseDuration, parseSize } from "../units.ts";
import { computeWeight } from "./location_match.ts";
import { applyRewrite, type Rewrite, rewrite } from "./rewrite.ts";
import { rustRegex } from "./rust_regex.ts";
import { listenAddrs, upstreamAddr } from "./addr.ts";
import { healthCheck } from "./health_check.ts";
import { algo } from "../schema/upstream.ts";
import { compileSources } from "../compile.ts";

function ok<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) throw new Error(`Expected ok, got error: ${r.message}`);
  return r.value;
}

function err(r: { ok: true } | { ok: false; message: string }): string {
  assert.equal(r.ok, false, "expected an error");
  return (r as { message: string }).message;
}

// ---------------------------------------------------------------- units

Deno.test("parseDuration() reads single units", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("2d"), 2 * 86_400_000);
  assert.equal(parseDuration("1w"), 7 * 86_400_000);
  assert.equal(parseDuration("2h"), 7_200_000);
});

Deno.test("parseDuration() sums unit sequences, with or without spaces", () => {
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1m 30s"), 90_000);
  assert.equal(parseDuration(" 1h 1m 1s "), 3_661_000);
});

Deno.test("parseDuration() rejects text that is not a duration", () => {
  for (const bad of ["", "   ", "10", "abc", "10 parsecs", "1a", "s", "-1s", "1m30"]) {
    const r = parseDuration(bad);
    assert.equal(typeof r, "string", `${JSON.stringify(bad)} should be rejected, got ${r}`);
  }
  assert.match(parseDuration("1a") as string, /unit "a"/);
  assert.match(parseDuration("10") as string, /without a unit/);
});

Deno.test("parseSize() reads decimal and binary units, case-insensitive", () => {
  assert.equal(parseSize("4kb"), 4000);
  assert.equal(parseSize("10MB"), 10_000_000);
  assert.equal(parseSize("1gb"), 1_000_000_000);
  assert.equal(parseSize("1KiB"), 1024);
  assert.equal(parseSize("2mib"), 2 * 1024 * 1024);
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("1.5kb"), 1500);
});

Deno.test("parseSize() rejects unknown units and garbage", () => {
  const r = parseSize("10 parsecs");
  assert.equal(typeof r, "string");
  assert.match(r as string, /parsecs/);
  for (const bad of ["", "mb", "ten mb", "-1kb", "1 k b"]) assert.equal(typeof parseSize(bad), "string", bad);
});

// ---------------------------------------------------------------- weight (rows 1–7)

Deno.test("computeWeight() matches Pingap's vectors (rows 2–7)", () => {
  assert.equal(computeWeight("=/api", undefined), 1029);
  assert.equal(computeWeight("~/api", undefined), 261);
  assert.equal(computeWeight("/api", undefined), 516);
  assert.equal(computeWeight(undefined, "github.com"), 128);
  assert.equal(computeWeight(undefined, "~github.com"), 11);
  assert.equal(computeWeight(undefined, ""), 0);
  assert.equal(computeWeight("/", undefined), 0);
});

Deno.test("computeWeight() caps the path length at 64 and adds host weight", () => {
  const long = "/" + "a".repeat(100);
  assert.equal(computeWeight(long, undefined), 512 + 64);
  assert.equal(computeWeight("/api", "a.com,b.com"), 516 + 128);
  assert.equal(computeWeight("/api", "a.com,~b"), 516 + "a.com,~b".length);
});

Deno.test("compileSources() uses an explicit weight instead of the computed one (row 1)", () => {
  const { plan, diagnostics } = compileSources([{
    file: "w.toml",
    text: '[locations.a]\npath = "=/api"\nweight = 2048\n[locations.b]\npath = "=/api"\n',
  }]);
  assert.ok(plan, JSON.stringify(diagnostics));
  assert.equal(plan.locations.find((l) => l.name === "a")?.weight, 2048);
  assert.equal(plan.locations.find((l) => l.name === "b")?.weight, 1029);
});

// ---------------------------------------------------------------- rewrite (rows 17–19)

function rule(text: string): Rewrite {
  return ok(rewrite(text));
}

Deno.test("applyRewrite() replaces the match and keeps the query (row 17)", () => {
  const r = applyRewrite(rule("^/users/(?<upstream>.*?)/(.*)$ /$2"), "/users/rest/me", "abc=1");
  assert.deepEqual(r, { path: "/me?abc=1", captures: { upstream: "rest" } });
});

Deno.test("applyRewrite() returns undefined when the regex does not match (row 18)", () => {
  assert.equal(applyRewrite(rule("^/users/(?<upstream>.*?)/(.*)$ /$2"), "/api/me", "abc=1"), undefined);
});

Deno.test("applyRewrite() substitutes numbered groups and has no captures without named groups (row 19)", () => {
  assert.deepEqual(applyRewrite(rule("^/old/(.*)$ /new/$1"), "/old/thing", "x=1"), { path: "/new/thing?x=1" });
});

Deno.test("applyRewrite() replaces only the first match", () => {
  assert.deepEqual(applyRewrite(rule("a b"), "/a/a", undefined), { path: "/b/a" });
});

Deno.test("applyRewrite() resolves $name and ${name} from groups, then from vars", () => {
  const r = rule("^/api/(?<rest>.*)$ /${svc}/$rest");
  assert.deepEqual(applyRewrite(r, "/api/x", "", { svc: "users", rest: "ignored" }), {
    path: "/users/x",
    captures: { rest: "x" },
  });
  // Unknown names are empty, as in the regex crate; prototype keys are not variables.
  assert.deepEqual(applyRewrite(rule("^/a /$nope/${constructor}"), "/a", ""), { path: "//" });
});

Deno.test("applyRewrite() with a single replacement part replaces the whole path", () => {
  const r = rule("/v2$1");
  assert.equal(r.whole, true);
  assert.deepEqual(applyRewrite(rule("/static/${file}"), "/x/y", "q=1", { file: "a.css" }), {
    path: "/static/a.css?q=1",
  });
});

Deno.test("applyRewrite() treats an unchanged path as not rewritten", () => {
  assert.equal(applyRewrite(rule("^/api /api"), "/api/x", "a=1"), undefined);
});

Deno.test("parseReplacement via rewrite() keeps $$ as a literal dollar", () => {
  assert.deepEqual(applyRewrite(rule("^/a /$$x"), "/a", undefined), { path: "/$x" });
});

Deno.test("rewrite() rejects an invalid regex and names it", () => {
  const m = err(rewrite("^/(api /x"));
  assert.match(m, /\^\/\(api/);
});

// ---------------------------------------------------------------- rust_regex

Deno.test("rustRegex() turns (?P<name>…) into named groups (row 25)", () => {
  const re = ok(rustRegex("(?P<year>\\d{4})-(?P<month>\\d{2})-(?P<day>\\d{2})"));
  const m = re.exec("2024-03-14");
  assert.deepEqual({ ...m?.groups }, { year: "2024", month: "03", day: "14" });
});

Deno.test("rustRegex() maps a leading (?i) to the i flag", () => {
  const re = ok(rustRegex("(?i)^/api"));
  assert.ok(re.flags.includes("i"));
  assert.ok(re.test("/API/x"));
});

Deno.test("rustRegex() translates \\A and \\z to whole-input anchors", () => {
  const re = ok(rustRegex("\\A/api\\z"));
  assert.ok(re.test("/api"));
  assert.ok(!re.test("/api/x"));
  assert.ok(!re.test("x/api"));
});

Deno.test("rustRegex() supports POSIX classes like [[:digit:]]", () => {
  const re = ok(rustRegex("^/v[[:digit:]]+$"));
  assert.ok(re.test("/v12"));
  assert.ok(!re.test("/vx"));
});

Deno.test("rustRegex(): [[:^digit:]] alone is the negated class; negated classes inside a class keep their meaning", () => {
  const re = ok(rustRegex("^/v[[:^digit:]]+$"));
  assert.ok(re.test("/vx"));
  assert.ok(!re.test("/v1"));
  const both = ok(rustRegex("^[^[:digit:][:space:]]+$"));
  assert.ok(both.test("ab"));
  assert.ok(!both.test("a b") && !both.test("a1"));
});

Deno.test("rustRegex() refuses what Rust reads as a nested class or a set operation (JavaScript reads it as text)", () => {
  // Rust: "[[:foo:]]" is the class {:, f, o}; JavaScript's "[[:foo:]" + "]" matched "f]" and not "f".
  for (
    const [source, shown] of [
      ["^/[[:foo:]]", /unknown ASCII class "\[:foo:\]"/],
      ["^/[[:toString:]]", /unknown ASCII class "\[:toString:\]"/],
      ["^/[[:^foo:]]", /unknown ASCII class "\[:\^foo:\]"/],
      ["^/[a[bc]]", /nested character class/],
      ["^/[x[:^alpha:]]", /"\[:\^alpha:\]" inside a larger class/],
      ["^/[^[:^alpha:]]", /"\[:\^alpha:\]" inside a larger class/],
      ["^/[a-z&&[^aeiou]]", /nested character class|set operation/],
      ["^/[a-z&&b]", /set operation "&&"/],
      ["^/[a-z--b]", /set operation "--"/],
      ["^/[a-z~~b]", /set operation "~~"/],
    ] as const
  ) {
    const m = err(rustRegex(source));
    assert.match(m, shown, source);
    assert.match(m, /not support/, source);
  }
  // Escaped, they are plain characters in both.
  const re = ok(rustRegex("^[\\[\\&\\-]+$"));
  assert.ok(re.test("[&-"));
});

Deno.test("an unknown POSIX class is a check error at its key: a location path, a rewrite, a host", () => {
  const cases: [string, string][] = [
    ['[locations.l]\npath = "~^/[[:foo:]]"\n', "locations.l.path"],
    ['[locations.l]\nrewrite = "^/[[:foo:]]+ /x"\n', "locations.l.rewrite"],
    ['[locations.l]\nhost = "~^[[:foo:]]+$"\n', "locations.l.host"],
  ];
  for (const [text, path] of cases) {
    const { diagnostics } = compileSources([{ file: "r.toml", text }]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(errors.map((d) => [d.path.join("."), d.line]), [[path, 2]], text);
    assert.match(errors[0]!.message, /unknown ASCII class "\[:foo:\]"/);
    assert.match(errors[0]!.hint ?? "", /alnum, alpha/);
  }
});

Deno.test("rustRegex() reports an invalid regex with the regex in the message", () => {
  const m = err(rustRegex("^/(api"));
  assert.ok(m.includes('"^/(api"'), m);
});

Deno.test("rustRegex() rejects (?x), saying JavaScript cannot do it", () => {
  const m = err(rustRegex("(?x) ^/api # comment"));
  assert.match(m, /JavaScript/);
  assert.match(m, /not support/);
});

// ---------------------------------------------------------------- addresses (row 55)

Deno.test("upstreamAddr() reads host, port and weight (row 55)", () => {
  assert.deepEqual(ok(upstreamAddr("127.0.0.1:8080")), { host: "127.0.0.1", port: 8080, weight: 1 });
  assert.deepEqual(ok(upstreamAddr("127.0.0.1")), { host: "127.0.0.1", weight: 1 });
  assert.deepEqual(ok(upstreamAddr("127.0.0.1 10")), { host: "127.0.0.1", weight: 10 });
  assert.deepEqual(ok(upstreamAddr("[::1]:9000 3")), { host: "::1", port: 9000, weight: 3 });
});

Deno.test("upstreamAddr() rejects a weight that is not a number", () => {
  assert.match(err(upstreamAddr("127.0.0.1:80 abc")), /"abc"/);
  assert.match(err(upstreamAddr("127.0.0.1:99999")), /out of range/);
});

Deno.test("compileSources() gives backends port 80, or 443 with sni (row 55)", () => {
  const { plan, diagnostics } = compileSources([{
    file: "u.toml",
    text: [
      "[upstreams.plain]",
      'addrs = ["127.0.0.1", "127.0.0.1:8080", "127.0.0.1 10"]',
      "[upstreams.tls]",
      'addrs = ["127.0.0.1"]',
      'sni = "example.com"',
    ].join("\n"),
  }]);
  assert.ok(plan, JSON.stringify(diagnostics));
  const [plain, tls] = plan.upstreams;
  assert.deepEqual(plain?.backends.map((b) => [b.host, b.port, b.weight]), [
    ["127.0.0.1", 80, 1],
    ["127.0.0.1", 8080, 1],
    ["127.0.0.1", 80, 10],
  ]);
  assert.equal(tls?.backends[0]?.port, 443);
  assert.equal(tls?.tls, true);
});

Deno.test("listenAddrs() reads comma lists with IPv6 brackets", () => {
  assert.deepEqual(ok(listenAddrs("0.0.0.0:80,[::]:80")), [{ hostname: "0.0.0.0", port: 80 }, {
    hostname: "::",
    port: 80,
  }]);
  assert.deepEqual(ok(listenAddrs(" 127.0.0.1:6188 ")), [{ hostname: "127.0.0.1", port: 6188 }]);
});

Deno.test("listenAddrs() rejects a port out of range, a missing port and an empty value", () => {
  assert.match(err(listenAddrs("0.0.0.0:99999")), /99999/);
  assert.match(err(listenAddrs("1.2.3.4")), /no port/);
  assert.match(err(listenAddrs("")), /empty/);
  assert.match(err(listenAddrs("::1:80")), /brackets/);
});

// ---------------------------------------------------------------- health check (rows 32, 52, 56, 57)

Deno.test("healthCheck() reads every parameter and keeps unknown ones in the path (row 56)", () => {
  const h = ok(healthCheck(
    "https://upstreamname/ping?connection_timeout=3s&read_timeout=1s&success=2&failure=1&check_frequency=10s&from=nginx&reuse&tls&service=grpc",
  ));
  assert.deepEqual(h, {
    scheme: "https",
    host: "upstreamname",
    path: "/ping?from=nginx",
    connectionTimeout: 3000,
    readTimeout: 1000,
    checkFrequency: 10_000,
    success: 2,
    failure: 1,
    reuse: true,
    tls: true,
    service: "grpc",
    parallel: false,
  });
});

Deno.test("healthCheck() gives tcp an empty path and default read timeout (row 57)", () => {
  const h = ok(healthCheck("tcp://upstreamname?connection_timeout=3s&success=2&failure=1&check_frequency=10s"));
  assert.equal(h.scheme, "tcp");
  assert.equal(h.path, "");
  assert.equal(h.readTimeout, 3000);
  assert.equal(h.success, 2);
});

Deno.test("a framing header a config would write is an error at its item (a mock's was sent twice and unreadable)", () => {
  const cases: [string, string][] = [
    ['[plugins.p]\ncategory = "mock"\nheaders = ["X-A: 1", "Content-Length: 99"]\n', "plugins.p.headers.1"],
    ['[plugins.p]\ncategory = "mock"\nheaders = ["transfer-encoding: chunked"]\n', "plugins.p.headers.0"],
    ['[plugins.p]\ncategory = "response_headers"\nadd_headers = ["Content-Length:5"]\n', "plugins.p.add_headers.0"],
    [
      '[plugins.p]\ncategory = "response_headers"\nset_headers = ["Transfer-Encoding:gzip"]\n',
      "plugins.p.set_headers.0",
    ],
    [
      '[plugins.p]\ncategory = "response_headers"\nset_headers_not_exists = ["Content-Length:5"]\n',
      "plugins.p.set_headers_not_exists.0",
    ],
    [
      '[plugins.p]\ncategory = "response_headers"\nrename_headers = ["X-Len:Content-Length"]\n',
      "plugins.p.rename_headers.0",
    ],
    ['[plugins.p]\ncategory = "request_id"\nheader_name = "Content-Length"\n', "plugins.p.header_name"],
    ['[locations.l]\nproxy_set_headers = ["Content-Length: 0"]\n', "locations.l.proxy_set_headers.0"],
    ['[locations.l]\nproxy_add_headers = ["Transfer-Encoding: chunked"]\n', "locations.l.proxy_add_headers.0"],
  ];
  for (const [text, path] of cases) {
    const errors = compileSources([{ file: "h.toml", text }]).diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(errors.map((d) => d.path.join(".")), [path], text);
    assert.match(errors[0]!.message, /frames the message/);
    assert.ok(errors[0]!.line, "with a line");
  }
  // Reading such a header, removing it, or setting Host stays possible.
  const fine = '[plugins.p]\ncategory = "response_headers"\nremove_headers = ["Content-Length"]\n' +
    'rename_headers = ["Content-Length:X-Len"]\n[locations.l]\nproxy_set_headers = ["Host: a.test"]\n';
  assert.deepEqual(
    compileSources([{ file: "h.toml", text: fine }]).diagnostics.filter((d) => d.severity === "error"),
    [],
  );
});

Deno.test("backend_failure_status_code: an item that is no status is an error at the key (it was skipped, or all 5xx)", () => {
  const upstream = (v: string) => `[upstreams.u]\naddrs = ["127.0.0.1:1"]\nbackend_failure_status_code = ${v}\n`;
  for (const v of ['"5xx"', '"502, 50"', '"0x1F4"', '["503", "1000"]', '"099"']) {
    const errors = compileSources([{ file: "u.toml", text: upstream(v) }]).diagnostics.filter((d) =>
      d.severity === "error"
    );
    assert.deepEqual(
      errors.map((d) => [d.path.join("."), d.line]),
      [["upstreams.u.backend_failure_status_code", 3]],
      v,
    );
    assert.match(errors[0]!.message, /not a status/);
  }
  for (const v of ['"502,503, 504"', '["429", "500"]', '""']) {
    const { diagnostics, plan } = compileSources([{ file: "u.toml", text: upstream(v) }]);
    assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), [], v);
    assert.ok(plan);
  }
});

Deno.test("dns_server: a host name (every lookup through it failed) or a port outside 1–65535 is an error at the key", () => {
  const upstream = (v: string) => `[upstreams.u]\naddrs = ["a.test:1"]\ndns_server = ${v}\n`;
  for (
    const v of ['"dns.google"', '"8.8.8.8:99999"', '"8.8.8.8:0"', '"1.1.1.1, 8.8.8.8:53:1"', '["[::1]:x"]', '"::1:53x"']
  ) {
    const errors = compileSources([{ file: "u.toml", text: upstream(v) }]).diagnostics.filter((d) =>
      d.severity === "error"
    );
    assert.deepEqual(errors.map((d) => [d.path.join("."), d.line]), [["upstreams.u.dns_server", 3]], v);
    assert.match(errors[0]!.message, /not a name server IP/);
  }
  for (const v of ['"1.1.1.1, 8.8.8.8:53"', '["[2001:4860:4860::8888]:53", "2001:4860:4860::8844", "::1"]', '""']) {
    const { diagnostics } = compileSources([{ file: "u.toml", text: upstream(v) }]);
    assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), [], v);
  }
});

Deno.test("healthCheck(): a success or failure count past 2^53 is an error at the key (400 digits were Infinity)", () => {
  for (const param of [`success=${"9".repeat(400)}`, `failure=${2 ** 53 + 2}`]) {
    const text = `[upstreams.u]\naddrs = ["127.0.0.1:1"]\nhealth_check = "http://u/ping?${param}"\n`;
    const errors = compileSources([{ file: "h.toml", text }]).diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(errors.map((d) => [d.path.join("."), d.line]), [["upstreams.u.health_check", 3]], param);
    assert.match(errors[0]!.message, /is too large/);
  }
  assert.equal(ok(healthCheck(`http://u/ping?success=${Number.MAX_SAFE_INTEGER}`)).success, Number.MAX_SAFE_INTEGER);
});

Deno.test("healthCheck() rejects a URL with an empty host (row 32)", () => {
  assert.match(err(healthCheck("http:///")), /empty host/);
  assert.match(err(healthCheck("ftp://x/")), /not supported/);
  assert.match(err(healthCheck("not a url")), /not a URL/);
});

Deno.test("compileSources() keeps update_frequency and check_frequency of a dns upstream (row 52)", () => {
  const { plan, diagnostics } = compileSources([{
    file: "u.toml",
    text: [
      "[upstreams.u]",
      'addrs = ["127.0.0.1:3000"]',
      'discovery = "dns"',
      'update_frequency = "5s"',
      'health_check = "http://127.0.0.1:3000/?check_frequency=3s"',
      "[upstreams.v]",
      'addrs = ["127.0.0.1:3000"]',
      'algo = "hash:ip"',
      'discovery = "dns"',
      'update_frequency = "10s"',
      'health_check = "http://127.0.0.1:3000/?check_frequency=2s"',
    ].join("\n"),
  }]);
  assert.ok(plan, JSON.stringify(diagnostics));
  const [u, v] = plan.upstreams;
  assert.equal(u?.discovery, "dns");
  assert.deepEqual([u?.updateFrequency, u?.healthCheck.checkFrequency], [5000, 3000]);
  assert.deepEqual([v?.updateFrequency, v?.healthCheck.checkFrequency], [10_000, 2000]);
  assert.deepEqual(v?.algo, { kind: "hash", by: "ip" });
});

// ---------------------------------------------------------------- algo (row 48)

Deno.test("algo() reads Pingap's hash strategies (row 48)", () => {
  assert.deepEqual(ok(algo("hash:url")), { kind: "hash", by: "url" });
  assert.deepEqual(ok(algo("hash:ip")), { kind: "hash", by: "ip" });
  assert.deepEqual(ok(algo("hash:header:User-Agent")), { kind: "hash", by: "header", name: "user-agent" });
  assert.deepEqual(ok(algo("hash:cookie:deviceId")), { kind: "hash", by: "cookie", name: "deviceId" });
  assert.deepEqual(ok(algo("hash:query:id")), { kind: "hash", by: "query", name: "id" });
  assert.deepEqual(ok(algo("hash:path")), { kind: "hash", by: "path" });
  assert.deepEqual(ok(algo("hash:other")), { kind: "hash", by: "path" });
});

Deno.test("algo() reads round_robin and rejects bare hash and unknown names", () => {
  assert.deepEqual(ok(algo("round_robin")), { kind: "round_robin" });
  assert.match(err(algo("hash")), /needs a key/);
  assert.match(err(algo("hash:header")), /needs a header name/);
  assert.match(err(algo("random")), /Unknown algorithm/);
});
