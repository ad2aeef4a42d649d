import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { type Diagnostic, formatPath, hasErrors } from "../diagnostic.ts";
import { decodeTable, isTable } from "../schema/types.ts";
import { ipInList, type IpNet, ipNet, parseIp } from "../values/ip.ts";
import type { AdminPlan } from "./admin.ts";
import type { BasicAuthPlan } from "./basic_auth.ts";
import type { CachePlan } from "./cache.ts";
import type { CombinedAuthPlan } from "./combined_auth.ts";
import type { CorsPlan } from "./cors.ts";
import type { DirectoryPlan } from "./directory.ts";
import type { GeoRestrictionPlan } from "./geo_restriction.ts";
import type { IpRestrictionPlan } from "./ip_restriction.ts";
import type { KeyAuthPlan } from "./key_auth.ts";
import type { LimitPlan } from "./limit.ts";
import { BUILTIN_PLUGINS, PLUGINS, type Step } from "./mod.ts";
import type { RedirectPlan } from "./redirect.ts";
import type { RequestIdPlan } from "./request_id.ts";
import type { ResponseHeadersPlan } from "./response_headers.ts";
import type { SubFilterPlan } from "./sub_filter.ts";
import type { UaRestrictionPlan } from "./ua_restriction.ts";

const EXAMPLES = new URL("../../../shared/pingap-examples/", import.meta.url);
const AT = ["plugins", "p"] as const;

interface Result<P> {
  diags: Diagnostic[];
  plan: P | undefined;
}

/** Decodes and compiles one plugin table the way the compiler does (common keys stripped). */
function compilePlugin<P = unknown>(raw: Record<string, unknown>, path: readonly (string | number)[] = AT): Result<P> {
  const { category, step: _step, remark: _remark, ...keys } = raw;
  const definition = PLUGINS.get(String(category));
  assert.ok(definition, `unknown category ${String(category)}`);
  const diags: Diagnostic[] = [];
  const schema = {
    title: `[plugins.<name>] (${definition.category})`,
    doc: definition.doc,
    fields: definition.fields,
    ...(definition.aliases ? { aliases: definition.aliases } : {}),
  };
  const decoded = decodeTable(schema, keys, path, diags);
  if (decoded === undefined || hasErrors(diags)) return { diags, plan: undefined };
  const plan = definition.compile ? definition.compile(decoded, { path, diags }) : decoded;
  return { diags, plan: plan as P };
}

function errors(r: Result<unknown>): Diagnostic[] {
  return r.diags.filter((d) => d.severity === "error");
}

function show(diags: readonly Diagnostic[]): string {
  return diags.map((d) => `${d.severity} ${formatPath(d.path)}: ${d.message}`).join("\n");
}

/** Asserts no errors and returns the plan. */
function ok<P>(raw: Record<string, unknown>): P {
  const r = compilePlugin<P>(raw);
  assert.deepEqual(errors(r), [], show(r.diags));
  assert.ok(r.plan !== undefined);
  return r.plan;
}

/** Asserts an error at `plugins.p.<key path>` and returns it. */
function errorAt(raw: Record<string, unknown>, ...key: (string | number)[]): Diagnostic {
  const r = compilePlugin(raw);
  const want = formatPath([...AT, ...key]);
  const found = errors(r).find((d) => formatPath(d.path) === want);
  assert.ok(found, `expected an error at ${want}, got:\n${show(r.diags)}`);
  return found;
}

function stepAllowed(category: string, step: Step): boolean {
  return PLUGINS.get(category)!.steps.allowed.includes(step);
}

function net(text: string): IpNet {
  const r = ipNet(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

async function* tomlFiles(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* tomlFiles(url);
    else if (entry.name.endsWith(".toml")) yield url;
  }
}

Deno.test("PLUGINS registers the 26 Pingap categories and those of 0.16 this version has", () => {
  const expected = [
    "stats",
    "limit",
    "compression",
    "admin",
    "directory",
    "mock",
    "request_id",
    "ip_restriction",
    "key_auth",
    "basic_auth",
    "combined_auth",
    "jwt",
    "cache",
    "redirect",
    "ping",
    "response_headers",
    "sub_filter",
    "referer_restriction",
    "ua_restriction",
    "csrf",
    "cors",
    "accept_encoding",
    "traffic_splitting",
    "forward_auth",
    "geo_restriction",
    "image_optim",
    "hmac_auth",
    "oidc",
    "health",
    "bandwidth_limit",
    "mirror",
    "request_headers",
    "maintenance",
    "uri_block",
    "error_page",
  ];
  assert.deepEqual([...PLUGINS.keys()].sort(), [...expected].sort());
  for (const [category, definition] of PLUGINS) {
    assert.equal(definition.category, category);
    assert.ok(definition.doc.length > 20, `${category} doc`);
    assert.ok(definition.steps.allowed.includes(definition.steps.default), `${category} default step`);
    for (const [key, f] of Object.entries(definition.fields)) {
      assert.ok(!["category", "step", "remark"].includes(key), `${category}.${key} is a common key`);
      assert.ok(f.doc.length > 5, `${category}.${key} doc`);
    }
  }
});

/**
 * Example tables this version refuses, with the keys of our errors (Pingap's `ipLimit`, which 0.16 refuses, compiles
 * here with warnings that fail closed).
 */
const REFUSED_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  // Not refused by Pingap 0.16, which falls back to GeoIP data built into its binary; this version has none.
  geoRestriction: ["plugins.geoRestriction.database"],
};

Deno.test("PLUGINS: every plugin table of pingap-examples compiles without errors (but those Pingap 0.16 refuses)", async () => {
  let count = 0;
  for await (const file of tomlFiles(EXAMPLES)) {
    const doc = parseToml(await Deno.readTextFile(file));
    const plugins = doc.plugins;
    if (!isTable(plugins)) continue;
    for (const [name, raw] of Object.entries(plugins)) {
      assert.ok(isTable(raw));
      const r = compilePlugin(raw, ["plugins", name]);
      const refused = REFUSED_EXAMPLES[name];
      count++;
      if (refused) {
        assert.deepEqual(errors(r).map((d) => formatPath(d.path)).sort(), refused, show(r.diags));
        continue;
      }
      assert.deepEqual(errors(r), [], `${file.pathname} [plugins.${name}]\n${show(r.diags)}`);
      // The plan must survive a trip to a worker.
      assert.deepEqual(structuredClone(r.plan), r.plan);
    }
  }
  assert.ok(count >= 25, `only ${count} plugin tables found`);
});

Deno.test("PLUGINS: pingap-examples compatibility cases decode as intended", () => {
  const stats = compilePlugin<{ path: string }>({ category: "stats", value: "/stats" });
  assert.equal(stats.plan?.path, "/stats");
  assert.ok(stats.diags.some((d) => d.code === "alias-key"));
  const cache = ok<CachePlan>({ category: "cache", directory: "/opt/pingap/cache?levels=2&inactive=7d", lock: "3s" });
  assert.deepEqual(cache.backend, {
    kind: "file",
    path: "/opt/pingap/cache",
    readingMax: 10_000,
    writingMax: 1_000,
    cacheMax: 0,
    cacheFileMaxWeight: 256,
    inactive: 7 * 86_400_000,
    levels: [2],
    maxSize: 0,
  });
  assert.equal(cache.lock, 3000);
  assert.equal(cache.maxFileSize, 1_000_000);
  assert.equal(ok<CachePlan>({ category: "cache" }).backend.kind, "memory");
  assert.deepEqual(ok<CachePlan>({ category: "cache", directory: "memory://?max_size=20&mode=compact" }).backend, {
    kind: "memory",
    maxSizePercent: 20,
    mode: "compact",
  });
  errorAt({ category: "cache", directory: "/tmp/c?levels=4" }, "directory");
  const ae = ok<{ encodings: string[] }>({ category: "accept_encoding", encodings: ["zstd", "br", "gzip"] });
  assert.deepEqual(ae.encodings, ["zstd", "br", "gzip"]);
  assert.deepEqual(
    ok<{ encodings: string[] }>({ category: "accept_encoding", encodings: "zstd, br, gzip" }).encodings,
    [
      "zstd",
      "br",
      "gzip",
    ],
  );
  const limit = compilePlugin<LimitPlan>({ category: "limit", tag: "ip", key: "x", max: 1 });
  assert.deepEqual(errors(limit), []);
  assert.ok(limit.diags.some((d) => formatPath(d.path) === "plugins.p.key" && d.severity === "warning"));
});

Deno.test("BUILTIN_PLUGINS compile without diagnostics", () => {
  assert.deepEqual([...BUILTIN_PLUGINS.keys()], [
    "pingap:compression",
    "pingap:compressionUpstream",
    "pingap:ping",
    "pingap:stats",
    "pingap:requestId",
    "pingap:acceptEncodingAdjustment",
  ]);
  for (const [name, raw] of BUILTIN_PLUGINS) {
    const r = compilePlugin(raw as Record<string, unknown>, ["plugins", name]);
    assert.deepEqual(r.diags, [], `${name}\n${show(r.diags)}`);
  }
  const ae = compilePlugin<{ encodings: string[]; onlyOneEncoding: boolean }>(
    BUILTIN_PLUGINS.get("pingap:acceptEncodingAdjustment") as Record<string, unknown>,
  );
  assert.deepEqual(ae.plan, { encodings: ["zstd", "br", "gzip"], onlyOneEncoding: true });
});

Deno.test("basic_auth: vectors 66 and 67", () => {
  const plan = ok<BasicAuthPlan>({ category: "basic_auth", authorizations: ["MTIz", "NDU2"], delay: "10s" });
  assert.deepEqual(plan.expected, ["Basic MTIz", "Basic NDU2"]);
  assert.equal(plan.delay, 10_000);
  const d = errorAt({ category: "basic_auth", authorizations: ["1"] }, "authorizations", 0);
  assert.match(d.message, /invalid input length/);
  errorAt({ category: "basic_auth" }, "authorizations");
  errorAt({ category: "basic_auth", authorizations: [] }, "authorizations");
});

Deno.test("admin: vector 108", () => {
  const plan = ok<AdminPlan>({
    category: "admin",
    path: "/pingap/",
    authorizations: ["YWRtaW46MTIzMTIz", "cGluZ2FwOjEyMzEyMw=="],
  });
  assert.deepEqual(plan.accounts.map((a) => `${a.user}:${a.password}`).join(","), "admin:123123,pingap:123123");
  assert.equal(plan.path, "/pingap");
  assert.equal(plan.maxAge, 2 * 86_400_000);
  assert.equal(plan.ipFailLimit, 10);
  assert.match(errorAt({ category: "admin", authorizations: ["123"] }, "authorizations", 0).message, /invalid padding/);
});

Deno.test("admin: Pingap 0.16's readonly_authorizations, tokens and readonly_tokens, and their errors", () => {
  const digest = "a".repeat(64);
  const plan = ok<AdminPlan>({
    category: "admin",
    authorizations: [btoa("admin:1")],
    readonly_authorizations: [btoa("viewer:2")],
    tokens: [`ci:${digest.toUpperCase()}`],
    readonly_tokens: [`grafana: ${"b".repeat(64)}`],
  });
  assert.deepEqual(plan.accounts.map((a) => `${a.user}:${a.readonly === true}`), ["admin:false", "viewer:true"]);
  assert.deepEqual(plan.tokens, [
    { name: "ci", sha256: digest, readonly: false },
    { name: "grafana", sha256: "b".repeat(64), readonly: true },
  ]);
  const both = errorAt(
    { category: "admin", authorizations: [btoa("a:1")], readonly_authorizations: [btoa("a:2")] },
    "readonly_authorizations",
    0,
  );
  assert.match(both.message, /User "a" is in authorizations and in readonly_authorizations/);
  const twice = errorAt(
    { category: "admin", tokens: [`t:${digest}`], readonly_tokens: [`t:${digest}`] },
    "readonly_tokens",
    0,
  );
  assert.match(twice.message, /Token "t" is there more than once/);
  const raw = errorAt({ category: "admin", tokens: ["ci:my-plain-token"] }, "tokens", 0);
  assert.match(raw.message, /name:<hex SHA-256/);
  assert.doesNotMatch(`${raw.message} ${raw.hint}`, /my-plain-token/, "a pasted token is never quoted");
  const readOnly = errorAt({ category: "admin", readonly_tokens: [`t:${digest}`] }, "authorizations");
  assert.match(readOnly.message, /read-only accounts or tokens and none that may write/);
  errorAt({ category: "admin", readonly_authorizations: ["x:y"] }, "readonly_authorizations", 0);
  ok<AdminPlan>({ category: "admin", tokens: [`ci:${digest}`] });
});

Deno.test("csrf: vectors 75 and 76", () => {
  errorAt({ category: "csrf", token_path: "/csrf-token", key: "123", ttl: "1a" }, "ttl");
  errorAt({ category: "csrf", key: "123" }, "token_path");
  errorAt({ category: "csrf", token_path: "/csrf-token" }, "key");
  errorAt({ category: "csrf", token_path: "/csrf-token", key: "" }, "key");
});

Deno.test("directory: vector 78", () => {
  const r = compilePlugin<DirectoryPlan>({
    category: "directory",
    path: "~/Downloads",
    chunk_size: 1024,
    max_age: "10m",
    step: "proxy_upstream",
  });
  assert.deepEqual(errors(r), []);
  assert.equal(r.plan?.chunkSize, 4096);
  assert.equal(r.plan?.maxAge, 600_000);
  assert.equal(r.plan?.index, "/index.html");
  assert.equal(r.plan?.followSymlinks, true);
  assert.ok(stepAllowed("directory", "proxy_upstream"));
  assert.ok(!stepAllowed("directory", "response"));
  assert.equal(ok<DirectoryPlan>({ category: "directory", path: "/srv", chunk_size: "64kb" }).chunkSize, 64_000);
  errorAt({ category: "directory" }, "path");
});

Deno.test("ip_restriction: vector 80", () => {
  const plan = ok<IpRestrictionPlan>({
    category: "ip_restriction",
    type: "deny",
    ip_list: ["192.168.1.1", "1.1.1.0/24"],
  });
  assert.equal(plan.type, "deny");
  assert.equal(ipInList(plan.ipList, "2.1.1.2"), false);
  assert.equal(ipInList(plan.ipList, "192.168.1.1"), true);
  assert.equal(ipInList(plan.ipList, "1.1.1.2"), true);
  assert.equal(plan.message, "Request is forbidden");
  errorAt({ category: "ip_restriction", ip_list: ["not-an-ip"] }, "ip_list", 0);
  errorAt({ category: "ip_restriction", ip_list: ["10.0.0.1"], type: "block" }, "type");
});

Deno.test("jwt: vectors 83 and 84", () => {
  // Vector 83 as of Pingap 0.16: HS384 is a secret algorithm too; an asymmetric one without a key is not.
  ok({ category: "jwt", header: "Authorization", secret: "123123", algorithm: "HS384" });
  const d = errorAt({ category: "jwt", header: "Authorization", secret: "123123", algorithm: "EdDSA" }, "algorithm");
  assert.match(d.hint ?? "", /HS256, HS384 or HS512/);
  errorAt({ category: "jwt", header: "Authorization" }, "secret");
  errorAt({ category: "jwt", secret: "123123" }, "header");
  const plan = ok<{ header: string; jwksTtl: number; jwksCooldown: number }>({
    category: "jwt",
    header: "Authorization",
    secret: "123123",
  });
  assert.equal(plan.header, "authorization");
  assert.equal(plan.jwksTtl, 3_600_000);
  assert.equal(plan.jwksCooldown, 10_000);
  ok({ category: "jwt", cookie: "jwt", algorithm: "RS256", jwks_url: "https://example.com/.well-known/jwks.json" });
  errorAt({ category: "jwt", cookie: "jwt", algorithm: "RS256" }, "public_key");
  errorAt({ category: "jwt", cookie: "jwt", algorithm: "RS256", public_key: "abc" }, "public_key");
  errorAt({ category: "jwt", cookie: "jwt", jwks_url: "ftp://example.com/keys" }, "jwks_url");
  const pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECE/4ox+pGq+yiB3RqIXINmlHJp+l\n" +
    "6V8vXffF5UzI/h3RPK3l9MphCKS2wg50uVoWlBITXMRhh5LVB/93vQZa0Q==\n-----END PUBLIC KEY-----\n";
  const es = ok<{ publicKey: { label: string } }>({ category: "jwt", query: "t", algorithm: "es256", public_key: pem });
  assert.equal(es.publicKey.label, "PUBLIC KEY");
  errorAt({ category: "jwt", query: "t", secret: "s", public_key: pem }, "public_key");
});

Deno.test("key_auth: vectors 85 and 86", () => {
  const plan = ok<KeyAuthPlan>({ category: "key_auth", header: "X-User", keys: ["123", "456"] });
  assert.equal(plan.header, "x-user");
  assert.equal(plan.keys.join(","), "123,456");
  errorAt({ category: "key_auth", keys: ["123"] }, "query");
  errorAt({ category: "key_auth", query: "key" }, "keys");
  errorAt({ category: "key_auth", query: "key", keys: [] }, "keys");
  assert.ok(!stepAllowed("key_auth", "proxy_upstream"));
  const both = compilePlugin<KeyAuthPlan>({ category: "key_auth", query: "k", header: "X-Key", keys: ["1"] });
  assert.equal(both.plan?.query, "k");
  assert.equal(both.plan?.header, undefined);
  assert.ok(both.diags.some((d) => d.severity === "warning" && formatPath(d.path) === "plugins.p.header"));
});

Deno.test("limit: vectors 88 and 153 (Pingap 0.16 keys)", () => {
  assert.ok(!stepAllowed("limit", "response"));
  assert.ok(stepAllowed("limit", "request") && stepAllowed("limit", "proxy_upstream"));
  const rate = ok<LimitPlan>({ category: "limit", max: 100, interval: "30s", tag: "header", key: "X-App" });
  assert.deepEqual(rate, {
    type: "rate",
    tag: "header",
    key: "x-app",
    keyName: "X-App",
    max: 100,
    interval: 30_000,
    status: 429,
    message: "",
    rejectMissingKey: false,
    headers: false,
    retryAfter: "30",
  });
  const inflight = ok<LimitPlan>({ category: "limit", type: "inflight", max: 1 });
  assert.equal(inflight.retryAfter, "");
  assert.equal(ok<LimitPlan>({ category: "limit", max: 5, interval: "500ms" }).retryAfter, "1");
  errorAt({ category: "limit", type: "concurrency", max: 1 }, "type");
  errorAt({ category: "limit", type: "Inflight", max: 1 }, "type");
  errorAt({ category: "limit", tag: "cookies", key: "a", max: 1 }, "tag");
  // Pingap 0.16 requires key and max; without them (Pingap's own sample) the limit fails closed with a warning.
  assert.equal(ok<LimitPlan>({ category: "limit", tag: "header", max: 1 }).key, "");
  assert.equal(ok<LimitPlan>({ category: "limit", type: "rate" }).max, 0);
  errorAt({ category: "limit", max: -1 }, "max");
  errorAt({ category: "limit", max: 1, interval: "0s" }, "interval");
  errorAt({ category: "limit", max: 1, status: 200 }, "status");
  errorAt({ category: "limit", max: 1, missing_key: "drop" }, "missing_key");
  const weighted = compilePlugin<LimitPlan>({ category: "limit", max: 1, weight: 50 });
  assert.deepEqual(errors(weighted), []);
  assert.ok(weighted.diags.some((d) => d.severity === "warning" && formatPath(d.path) === "plugins.p.weight"));
});

Deno.test("mock, stats, request_id: steps of vectors 90, 97 and 107", () => {
  assert.ok(!stepAllowed("mock", "response"));
  assert.ok(!stepAllowed("stats", "response"));
  assert.ok(!stepAllowed("request_id", "response"));
  assert.ok(stepAllowed("request_id", "proxy_upstream"));
  const plan = ok<RequestIdPlan>({ category: "request_id", algorithm: "nanoid", size: 10, header_name: "uid" });
  assert.deepEqual(plan, { algorithm: "nanoid", size: 10, headerName: "uid" });
  assert.deepEqual(ok<RequestIdPlan>({ category: "request_id", size: 0 }), {
    algorithm: "uuid",
    size: 8,
    headerName: "x-request-id",
  });
  errorAt({ category: "request_id", algorithm: "ulid" }, "algorithm");
  errorAt({ category: "request_id", header_name: "bad header" }, "header_name");
});

Deno.test("redirect: vectors 93 and 94", () => {
  const plan = ok<RedirectPlan>({ category: "redirect", http_to_https: true, prefix: "api" });
  assert.deepEqual(plan, { httpToHttps: true, prefix: "/api", status: 307 });
  for (const status of [301, 302, 307, 308]) {
    assert.equal(ok<RedirectPlan>({ category: "redirect", status }).status, status);
  }
  errorAt({ category: "redirect", status: 300 }, "status");
  assert.equal(ok<RedirectPlan>({ category: "redirect", prefix: "/" }).prefix, "");
});

Deno.test("response_headers: vector 98", () => {
  const plan = ok<ResponseHeadersPlan>({
    category: "response_headers",
    add_headers: ["X-Service:1", "X-Service:2"],
    set_headers: ["X-Response-Id:123"],
    remove_headers: ["Content-Type"],
    set_headers_not_exists: ["X-Response-Id:abc", "X-Tag:userTag"],
    rename_headers: ["X-Old: X-New"],
  });
  assert.deepEqual(plan.add, [{ name: "x-service", value: ["1"] }, { name: "x-service", value: ["2"] }]);
  assert.deepEqual(plan.remove, ["content-type"]);
  assert.deepEqual(plan.rename, [["x-old", "x-new"]]);
  assert.equal(plan.mode, "response");
  errorAt({ category: "response_headers", add_headers: ["X-Service"] }, "add_headers", 0);
  errorAt({ category: "response_headers", rename_headers: ["X-Old"] }, "rename_headers", 0);
});

Deno.test("sub_filter: vector 99 and replacements", () => {
  const plan = ok<SubFilterPlan>({
    category: "sub_filter",
    path: "^/api",
    filters: [
      "subs_filter 'http://pingap.io' 'https://pingap.io/api' ig",
      "sub_filter 'http://pingap.io' 'https://pingap.io/api' ig",
    ],
    status_codes: "200, 201",
  });
  const [re, lit] = plan.filters;
  assert.equal(re?.kind, "regex");
  assert.equal(re?.replacement, "https://pingap.io/api");
  assert.ok(re?.global && re.caseInsensitive && re.regex?.flags.includes("i"));
  assert.equal(lit?.kind, "literal");
  assert.equal(lit?.pattern, "http://pingap.io");
  assert.deepEqual(plan.statusCodes, [200, 201]);
  assert.equal("HTTP://PINGAP.IO/x".replace(re!.regex!, re!.replacement), "https://pingap.io/api/x");

  const swap = ok<SubFilterPlan>({
    category: "sub_filter",
    filters: ["subs_filter '(\\w+)@(?P<host>\\w+)' '${host} at $1 ($$)$9' g"],
  });
  const rule = swap.filters[0]!;
  assert.equal("a@b c@d".replace(rule.regex!, rule.replacement), "b at a ($) d at c ($)");
  errorAt({ category: "sub_filter", filters: ["sub_filter 'a'"] }, "filters", 0);
  errorAt({ category: "sub_filter", filters: ["subs_filter '(' 'b'"] }, "filters", 0);
  errorAt({ category: "sub_filter", filters: ["sub_filter 'a' 'b' x"] }, "filters", 0);
  errorAt({ category: "sub_filter", status_codes: "200,abc" }, "status_codes");
});

Deno.test("traffic_splitting: vector 100", () => {
  errorAt({ category: "traffic_splitting", upstream: "", weight: 10 }, "upstream");
  errorAt({ category: "traffic_splitting", weight: 10 }, "upstream");
  errorAt({ category: "traffic_splitting", upstream: "b", weight: 10, stickiness: true }, "stickiness");
  errorAt({ category: "traffic_splitting", upstream: "b", weight: 150 }, "weight");
  const plan = ok<{ stickyCookie: string; matcher: RegExp }>({
    category: "traffic_splitting",
    upstream: "b",
    weight: 50,
    stickiness: true,
    sticky_cookie: "user-id",
    matcher: "^user-a$",
  });
  assert.equal(plan.stickyCookie, "user-id");
  assert.ok(plan.matcher.test("user-a"));
});

Deno.test("ua_restriction: vectors 103 and 104", () => {
  errorAt({ category: "ua_restriction", type: "denied" }, "type");
  const plan = ok<UaRestrictionPlan>({
    category: "ua_restriction",
    type: "Deny",
    ua_list: ["go-http-client/1.1", "(Twitterspider)/(\\d+)\\.(\\d+)"],
  });
  assert.equal(plan.type, "deny");
  assert.ok(plan.uaList.some((re) => re.test("go-http-client/1.1")));
  assert.ok(!plan.uaList.some((re) => re.test("pingap/1.0")));
  errorAt({ category: "ua_restriction", ua_list: ["(unclosed"] }, "ua_list", 0);
});

Deno.test("combined_auth: vector 105", () => {
  const d = errorAt(
    { category: "combined_auth", authorizations: [{ app_id: "pingap", secret: "123123" }] },
    "authorizations",
    0,
    "deviation",
  );
  assert.match(d.message, /pingap/);
  const plan = ok<CombinedAuthPlan>({
    category: "combined_auth",
    authorizations: [
      { app_id: "root", secret: "*" },
      { app_id: "pingap", secret: "123123", deviation: 60, ip_list: ["127.0.0.1", "10.0.0.0/8"] },
    ],
  });
  assert.equal(plan.apps.get("root")?.superUser, true);
  assert.equal(plan.apps.get("pingap")?.deviation, 60);
  assert.ok(ipInList(plan.apps.get("pingap")!.ipList!, "10.1.2.3"));
  assert.deepEqual(structuredClone(plan), plan);
  errorAt(
    { category: "combined_auth", authorizations: [{ secret: "x", deviation: 1 }] },
    "authorizations",
    0,
    "app_id",
  );
  errorAt(
    { category: "combined_auth", authorizations: [{ app_id: "a", secret: "x", deviation: 1, ip_list: ["x"] }] },
    "authorizations",
    0,
    "ip_list",
    0,
  );
  errorAt({ category: "combined_auth" }, "authorizations");
});

Deno.test("cors: vector 73", () => {
  const plan = ok<CorsPlan>({
    category: "cors",
    path: "^/api",
    allow_methods: "GET",
    allow_origin: "$http_origin",
    allow_credentials: true,
    allow_headers: "Content-Type, X-User-Id",
    max_age: "60m",
  });
  assert.deepEqual(plan.headers, [
    ["access-control-allow-methods", "GET"],
    ["access-control-allow-headers", "Content-Type, X-User-Id"],
    ["access-control-max-age", "3600"],
    ["access-control-allow-credentials", "true"],
  ]);
  assert.deepEqual(plan.allowOrigin, [{ header: "origin" }]);
  assert.ok(plan.path?.test("/api/pingap"));
  errorAt({ category: "cors", path: "(" }, "path");
});

Deno.test("geo_restriction, forward_auth and image_optim validate their keys", () => {
  const geo = ok<GeoRestrictionPlan>({
    category: "geo_restriction",
    type: "allow",
    country_codes: ["cn, ru", "US DE"],
    database: "/var/lib/GeoIP/GeoLite2-Country.mmdb",
    header: "X-Country",
  });
  assert.deepEqual(geo.countryCodes, ["CN", "RU", "US", "DE"]);
  assert.equal(geo.databaseRefresh, 60_000);
  assert.equal(geo.header, "x-country");
  errorAt({ category: "geo_restriction", type: "deny", country_codes: ["CN"] }, "database");
  errorAt(
    { category: "geo_restriction", type: "deny", database: "/g.mmdb", database_refresh: "500ms" },
    "database_refresh",
  );
  errorAt({ category: "geo_restriction", type: "deny", database: "/g.mmdb", header: "bad header" }, "header");
  errorAt({ category: "geo_restriction", country_codes: ["CN"] }, "type");
  errorAt({ category: "geo_restriction", type: "deny", country_codes: ["CHN"] }, "country_codes");
  errorAt({ category: "geo_restriction", type: "block" }, "type");
  errorAt({ category: "forward_auth" }, "auth_url");
  errorAt({ category: "forward_auth", auth_url: "not a url" }, "auth_url");
  const fa = ok<{ timeout: number; addHeaders: string[] }>({
    category: "forward_auth",
    auth_url: "http://auth/verify",
    add_headers: ["X-User"],
  });
  assert.equal(fa.timeout, 10_000);
  assert.deepEqual(fa.addHeaders, ["x-user"]);
  const io = ok<{ outputTypes: string[]; avifSpeed: number }>({ category: "image_optim", output_types: "avif,webp" });
  assert.deepEqual(io.outputTypes, ["avif", "webp"]);
  assert.equal(io.avifSpeed, 3);
  errorAt({ category: "image_optim", output_types: "gif" }, "output_types");
  errorAt({ category: "image_optim", png_quality: 0 }, "png_quality");
});

Deno.test("unknown plugin keys are errors with a hint", () => {
  const d = errorAt({ category: "ping", paht: "/ping" }, "paht");
  assert.equal(d.code, "unknown-key");
});

Deno.test("ipNet() and ipInList(): vector 62", () => {
  const list = ["192.168.1.0/24", "10.0.0.1", "2001:db8::/32", "2001:db8:a::1"].map(net);
  assert.equal(list.filter((n) => n.prefix < (n.v6 ? 128 : 32)).length, 2);
  assert.equal(ipNet("not-an-ip").ok, false);
  const cases: [string, boolean][] = [
    ["192.168.1.100", true],
    ["10.0.0.1", true],
    ["192.168.2.1", false],
    ["2001:db8:dead:beef::1", true],
    ["2001:db8:a::1", true],
    ["2001:db9::1", false],
    ["192.168.1.1", true],
    ["192.168.3.1", false],
  ];
  for (const [ip, want] of cases) assert.equal(ipInList(list, ip), want, ip);
  assert.equal(parseIp("999.999.999.999"), undefined);
  assert.equal(ipInList(list, "999.999.999.999"), false);
});

Deno.test("ipNet() parses and normalises addresses", () => {
  assert.deepEqual(net("192.168.1.1/24"), { v6: false, bytes: [192, 168, 1, 0], prefix: 24 });
  assert.deepEqual(net("::1"), { v6: true, bytes: [...new Array(15).fill(0), 1], prefix: 128 });
  assert.deepEqual(net("::").bytes, new Array(16).fill(0));
  assert.deepEqual(net("::ffff:1.2.3.4").bytes.slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  assert.equal(net("0.0.0.0/0").prefix, 0);
  for (
    const bad of [
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.4/33",
      "::1/129",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "[::1]",
      "10.0.0.0/",
      "gggg::1",
    ]
  ) {
    assert.equal(ipNet(bad).ok, false, bad);
  }
  assert.ok(ipInList([net("0.0.0.0/0")], "8.8.8.8"));
  assert.ok(!ipInList([net("0.0.0.0/0")], "::1"));
  assert.ok(ipInList([net("10.0.0.0/8")], "::ffff:10.1.2.3"));
  assert.ok(ipInList([net("fe80::/10")], "fe80::1%eth0"));
  assert.ok(ipInList([net("::1")], "[::1]"));
  assert.ok(ipInList([net("1.2.3.4/31")], "1.2.3.5"));
  assert.ok(!ipInList([net("1.2.3.4/31")], "1.2.3.6"));
});
