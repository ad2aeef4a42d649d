import assert from "node:assert/strict";
import { compileSources } from "../compile.ts";
import type { LocationPlan, Plan, ServerPlan } from "../plan.ts";
import { lookupLinear } from "./linear.ts";
import { lookupRoute } from "./lookup.ts";
import { buildRouteTable, literalPrefix, literalSuffix } from "./table.ts";
import { captures, type RouteRequest } from "./match.ts";

/** A lookup under test: the rank of the winning location, or -1. */
type Lookup = (server: ServerPlan, ranked: readonly LocationPlan[], req: RouteRequest) => number;

const LOOKUPS: readonly (readonly [string, Lookup])[] = [
  ["compiled", (server, ranked, req) => lookupRoute(server.routes, ranked, req)],
  ["linear", (_server, ranked, req) => lookupLinear(ranked, req)],
];

interface RequestInit {
  host?: string;
  path?: string;
  /** Raw query string, without `?`. */
  query?: string;
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
}

/** A RouteRequest from plain parts (query values are kept raw, as Pingap does). */
function request(init: RequestInit): RouteRequest {
  const headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const query = new Map<string, string>();
  for (const pair of (init.query ?? "").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const k = eq < 0 ? pair : pair.slice(0, eq);
    if (!query.has(k)) query.set(k, eq < 0 ? "" : pair.slice(eq + 1));
  }
  const cookies = new Map(Object.entries(init.cookies ?? {}));
  return {
    host: init.host ?? "",
    path: init.path ?? "",
    header: (name) => headers.get(name) ?? null,
    query: (name) => query.get(name),
    cookie: (name) => cookies.get(name),
  };
}

/** Locations as TOML (`name → keys`), served in this order by one server. */
type Locs = Record<string, Record<string, string | number | string[]>>;

function toml(value: string | number | string[]): string {
  return Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(", ")}]` : JSON.stringify(value);
}

function locationsToml(locs: Locs): string {
  const lines: string[] = [];
  for (const [name, keys] of Object.entries(locs)) {
    lines.push(`[locations.${JSON.stringify(name)}]`);
    for (const [k, v] of Object.entries(keys)) lines.push(`${k} = ${toml(v)}`);
  }
  return lines.join("\n");
}

interface Routing {
  readonly plan: Plan;
  readonly server: ServerPlan;
  readonly ranked: readonly LocationPlan[];
}

/** Compiles one server over `locs` (so ordering is the compiler's real weight order). */
function compileServer(text: string, serverName = "s"): Routing {
  const { plan, diagnostics } = compileSources([{ file: "routes.toml", text }]);
  if (!plan) {
    throw new Error(`Config does not compile: ${JSON.stringify(diagnostics.filter((d) => d.severity === "error"))}`);
  }
  const server = plan.servers.find((s) => s.name === serverName)!;
  return { plan, server, ranked: server.locations.map((i) => plan.locations[i]!) };
}

function routing(locs: Locs): Routing {
  const names = Object.keys(locs);
  return compileServer(`${locationsToml(locs)}\n[servers.s]\naddr = "127.0.0.1:6188"\nlocations = ${toml(names)}\n`);
}

/** Name of the winning location, or undefined. */
function winner(lookup: Lookup, r: Routing, init: RequestInit): string | undefined {
  const rank = lookup(r.server, r.ranked, request(init));
  return rank < 0 ? undefined : r.ranked[rank]!.name;
}

/** Does a single location match? */
function matches(lookup: Lookup, keys: Locs[string], init: RequestInit): boolean {
  return winner(lookup, routing({ only: keys }), init) === "only";
}

/**
 * Every location that matches, in order: the winner, then the winner among
 * the rest, and so on (each step is a fresh table over what is left).
 */
function allMatches(lookup: Lookup, locs: Locs, init: RequestInit): string[] {
  const left = { ...locs };
  const out: string[] = [];
  while (Object.keys(left).length) {
    const w = winner(lookup, routing(left), init);
    if (w === undefined) break;
    out.push(w);
    delete left[w];
  }
  return out;
}

for (const [name, lookup] of LOOKUPS) {
  Deno.test(`${name}: lookupRoute() treats a location without path and host as matching everything (row 9)`, () => {
    assert.ok(matches(lookup, {}, { host: "pingap", path: "/api" }));
    assert.ok(matches(lookup, {}, { host: "", path: "" }));
  });

  Deno.test(`${name}: lookupRoute() classifies path kinds: any, regex, exact, prefix (row 8)`, () => {
    const r = routing({ any: {}, re: { path: "~/api" }, exact: { path: "=/api" }, prefix: { path: "/api" } });
    assert.deepEqual(r.ranked.map((l) => [l.name, l.path.kind]), [
      ["exact", "exact"],
      ["prefix", "prefix"],
      ["re", "regex"],
      ["any", "any"],
    ]);
  });

  Deno.test(`${name}: lookupRoute() matches hosts exactly, case-insensitively, from a comma list (row 10)`, () => {
    const loc = { host: "test.com,pingap" };
    assert.ok(matches(lookup, loc, { host: "pingap", path: "/api" }));
    assert.ok(matches(lookup, loc, { host: "Pingap", path: "/api" }));
    assert.ok(matches(lookup, loc, { host: "pingap", path: "" }));
    assert.ok(matches(lookup, loc, { host: "TEST.com", path: "/" }));
    assert.ok(!matches(lookup, loc, { host: "", path: "/api" }));
    assert.ok(!matches(lookup, loc, { host: "test.co", path: "/api" }));
  });

  Deno.test(`${name}: lookupRoute() lower-cases non-ASCII hosts as String.toLowerCase does`, () => {
    // "İ" lower-cases to two characters: the host's length changes.
    const loc = { host: "ä.com,İ.com" };
    assert.ok(matches(lookup, loc, { host: "Ä.COM" }));
    assert.ok(matches(lookup, loc, { host: "ä.com" }));
    assert.ok(matches(lookup, loc, { host: "İ.COM" }));
    assert.ok(matches(lookup, loc, { host: "i̇.com" }));
    assert.ok(!matches(lookup, loc, { host: "a.com" }));
    assert.ok(!matches(lookup, loc, { host: "i.com" }));
  });

  Deno.test(`${name}: lookupRoute() matches *.suffix hosts on subdomains only, not the apex (row 11)`, () => {
    const loc = { host: "*.example.com" };
    assert.ok(matches(lookup, loc, { host: "a.example.com" }));
    assert.ok(matches(lookup, loc, { host: "api.example.com" }));
    assert.ok(matches(lookup, loc, { host: "x.API.Example.COM" }));
    assert.ok(!matches(lookup, loc, { host: "example.com" }));
    assert.ok(!matches(lookup, loc, { host: "evil-example.com" }));
    assert.ok(!matches(lookup, loc, { host: ".example.com" }));
  });

  Deno.test(`${name}: lookupRoute() runs an unanchored regex path anywhere in the path (row 12)`, () => {
    const loc = { path: "~/users" };
    assert.ok(matches(lookup, loc, { path: "/api/users" }));
    assert.ok(matches(lookup, loc, { path: "/users" }));
    assert.ok(!matches(lookup, loc, { path: "/api" }));
  });

  Deno.test(`${name}: lookupRoute() honours ^ in a regex path (row 13)`, () => {
    const loc = { path: "~^/api" };
    assert.ok(matches(lookup, loc, { path: "/api/users" }));
    assert.ok(!matches(lookup, loc, { path: "/users" }));
    assert.ok(matches(lookup, loc, { path: "/api" }));
    assert.ok(!matches(lookup, loc, { path: "/x/api" }));
  });

  Deno.test(`${name}: lookupRoute() honours $ and case flags in a regex path`, () => {
    assert.ok(matches(lookup, { path: "~^/api$" }, { path: "/api" }));
    assert.ok(!matches(lookup, { path: "~^/api$" }, { path: "/api/x" }));
    assert.ok(matches(lookup, { path: "~(?i)^/API" }, { path: "/api/x" }));
  });

  Deno.test(`${name}: lookupRoute() matches a prefix path as a plain string prefix (row 14)`, () => {
    const loc = { path: "/api" };
    assert.ok(matches(lookup, loc, { path: "/api/users" }));
    assert.ok(!matches(lookup, loc, { path: "/users" }));
    assert.ok(matches(lookup, loc, { path: "/api" }));
    assert.ok(matches(lookup, loc, { path: "/apis" }));
    assert.ok(!matches(lookup, loc, { path: "/ap" }));
  });

  Deno.test(`${name}: lookupRoute() matches an exact path only when equal (row 15)`, () => {
    const loc = { path: "=/api" };
    assert.ok(!matches(lookup, loc, { path: "/api/users" }));
    assert.ok(!matches(lookup, loc, { path: "/users" }));
    assert.ok(matches(lookup, loc, { path: "/api" }));
    assert.ok(matches(lookup, { path: "= /api " }, { path: "/api" }));
  });

  Deno.test(`${name}: lookupRoute() picks the exact path over a prefix`, () => {
    const r = routing({ prefix: { path: "/api" }, exact: { path: "=/api" }, regex: { path: "~^/api" } });
    assert.equal(winner(lookup, r, { path: "/api" }), "exact");
    assert.equal(winner(lookup, r, { path: "/api/x" }), "prefix");
  });

  Deno.test(`${name}: lookupRoute() picks the longer prefix, and a prefix over a regex`, () => {
    const r = routing({ short: { path: "/a" }, long: { path: "/a/b/c" }, re: { path: "~^/a/b" }, root: { path: "/" } });
    assert.equal(winner(lookup, r, { path: "/a/b/c/d" }), "long");
    assert.equal(winner(lookup, r, { path: "/a/b" }), "short");
    assert.equal(winner(lookup, r, { path: "/b" }), "root");
  });

  Deno.test(`${name}: lookupRoute() keeps config order between equal weights`, () => {
    const r = routing({ first: { path: "/api" }, second: { path: "/api" } });
    assert.equal(winner(lookup, r, { path: "/api" }), "first");
    const swapped = routing({ second: { path: "/api" }, first: { path: "/api" } });
    assert.equal(winner(lookup, swapped, { path: "/api" }), "second");
  });

  Deno.test(`${name}: lookupRoute() lets an explicit weight override the computed order`, () => {
    const r = routing({ exact: { path: "=/api" }, any: { weight: 2048 } });
    assert.equal(winner(lookup, r, { path: "/api" }), "any");
    const low = routing({ exact: { path: "=/api", weight: 0 }, prefix: { path: "/a" } });
    assert.equal(winner(lookup, low, { path: "/api" }), "prefix");
  });

  Deno.test(`${name}: lookupRoute() prefers a location with a plain host over one without`, () => {
    const r = routing({ plain: { path: "/api" }, hosted: { path: "/api", host: "a.com" } });
    assert.equal(winner(lookup, r, { host: "a.com", path: "/api" }), "hosted");
    assert.equal(winner(lookup, r, { host: "b.com", path: "/api" }), "plain");
  });

  Deno.test(`${name}: lookupRoute() returns no location when nothing matches`, () => {
    const r = routing({ a: { path: "=/a" }, b: { path: "/b", host: "b.com" } });
    assert.equal(winner(lookup, r, { host: "b.com", path: "/c" }), undefined);
    assert.equal(winner(lookup, r, { host: "c.com", path: "/b" }), undefined);
  });

  Deno.test(`${name}: lookupRoute() matches regex hosts on the original host and exposes captures (row 16)`, () => {
    const r = routing({
      npm: { host: "~(?<name>.+).npmtrend.com", path: "~/(?<route>.+)/(.*)" },
    });
    const req = request({ host: "charts.npmtrend.com", path: "/users/123" });
    const rank = lookup(r.server, r.ranked, req);
    assert.equal(rank, 0);
    assert.deepEqual(captures(r.ranked[rank]!, req), { name: "charts", route: "users" });
    assert.ok(!matches(lookup, { host: "~^Upper$" }, { host: "upper" }));
    assert.ok(matches(lookup, { host: "~^Upper$" }, { host: "Upper" }));
  });

  Deno.test(`${name}: captures() is undefined without named groups`, () => {
    const r = routing({ a: { path: "~^/(a)" } });
    const req = request({ path: "/a" });
    assert.equal(lookup(r.server, r.ranked, req), 0);
    assert.equal(captures(r.ranked[0]!, req), undefined);
  });

  Deno.test(`${name}: lookupRoute() requires every match_headers condition (rows 20–21)`, () => {
    const loc = { match_headers: ["x-version:2", "x-canary"] };
    assert.ok(!matches(lookup, loc, {}));
    assert.ok(!matches(lookup, loc, { headers: { "x-version": "2" } }));
    assert.ok(matches(lookup, loc, { headers: { "X-Version": "2", "x-canary": "anything" } }));
    assert.ok(!matches(lookup, loc, { headers: { "x-version": "3", "x-canary": "y" } }));
    assert.ok(matches(lookup, {}, { headers: { "x-version": "3" } }));
  });

  Deno.test(`${name}: lookupRoute() checks match_query raw and match_cookies by exact name (row 22)`, () => {
    const loc = { match_query: ["ver:2"], match_cookies: ["session"] };
    assert.ok(matches(lookup, loc, { path: "/", query: "ver=2", cookies: { session: "abc" } }));
    assert.ok(!matches(lookup, loc, { path: "/", query: "ver=2" }));
    assert.ok(!matches(lookup, loc, { path: "/", query: "ver=3", cookies: { session: "abc" } }));
    assert.ok(!matches(lookup, loc, { path: "/", query: "ver=2", cookies: { Session: "abc" } }));
    assert.ok(!matches(lookup, { match_query: ["q:a b"] }, { path: "/", query: "q=a%20b" }));
  });

  Deno.test(`${name}: lookupRoute() falls through to a lower location when conditions fail`, () => {
    const r = routing({ canary: { path: "/api", match_headers: ["x-canary"] }, stable: { path: "/api" } });
    assert.equal(winner(lookup, r, { path: "/api", headers: { "x-canary": "1" } }), "canary");
    assert.equal(winner(lookup, r, { path: "/api" }), "stable");
  });

  const hostIndex: Locs = {
    any_api: { path: "/api", weight: 10 },
    exact: { host: "api.example.com", weight: 10 },
    wild: { host: "*.example.com", weight: 10 },
    re: { host: "~^foo", weight: 10 },
  };

  Deno.test(`${name}: lookupRoute() finds matches across host buckets in config order (rows 26–27)`, () => {
    // Pingap's host index returns candidates; here every candidate that also matches.
    assert.deepEqual(allMatches(lookup, hostIndex, { host: "api.example.com", path: "/api" }), [
      "any_api",
      "exact",
      "wild",
    ]);
    assert.deepEqual(allMatches(lookup, hostIndex, { host: "other.example.com", path: "/api" }), ["any_api", "wild"]);
    assert.deepEqual(allMatches(lookup, hostIndex, { host: "foo.bar", path: "/api" }), ["any_api", "re"]);
    assert.deepEqual(allMatches(lookup, hostIndex, { host: "zzz", path: "/api" }), ["any_api"]);
  });

  Deno.test(`${name}: lookupRoute() orders an any-host location before an exact host by config order (rows 28–29)`, () => {
    assert.deepEqual(
      allMatches(lookup, { any: { weight: 1 }, exact: { host: "h.com", weight: 1 } }, { host: "h.com", path: "/" }),
      ["any", "exact"],
    );
    assert.deepEqual(allMatches(lookup, { wild: { host: "*.example.com" } }, { host: "example.com", path: "/" }), []);
    assert.deepEqual(allMatches(lookup, { wild: { host: "*.example.com" } }, { host: "a.example.com", path: "/" }), [
      "wild",
    ]);
  });

  Deno.test(`${name}: lookupRoute() matches a location listing several host kinds once`, () => {
    const r = routing({ multi: { host: "a.com, *.a.com, ~^b\\.", path: "/x" }, other: { path: "/" } });
    assert.equal(winner(lookup, r, { host: "a.com", path: "/x" }), "multi");
    assert.equal(winner(lookup, r, { host: "z.a.com", path: "/x" }), "multi");
    assert.equal(winner(lookup, r, { host: "b.com", path: "/x" }), "multi");
    assert.equal(winner(lookup, r, { host: "c.com", path: "/x" }), "other");
  });
}

Deno.test("buildRouteTable() files no exact host that is not lower case: lookup compares lower-cased hosts", () => {
  // The compiler lower-cases hosts; a hand-built location may not. Such a
  // host never equals a lower-cased request host, so it never matches.
  const loc = {
    path: { kind: "any" } as const,
    hosts: [{ kind: "exact", host: "A.com" } as const],
    matchHeaders: [],
    matchQuery: [],
    matchCookies: [],
  };
  const table = buildRouteTable([loc]);
  for (const host of ["A.com", "a.com", "A.COM"]) {
    const req = request({ host, path: "/" });
    assert.equal(lookupRoute(table, [loc], req), -1, host);
    assert.equal(lookupLinear([loc], req), -1, host);
  }
});

Deno.test("literalPrefix() takes the literal text after ^ that every match starts with", () => {
  const cases: [RegExp, string][] = [
    [/^\/api\/(\d+)$/u, "/api/"],
    [/^\/api$/, "/api"],
    [/^\/x\.y/, "/x.y"],
    [/^\/ab?/, "/a"],
    [/^\/ab*/, "/a"],
    [/^\/ab+/, "/a"],
    [/^\/ab{2}/, "/a"],
    [/^\/a[bc]/, "/a"],
    [/^\/a\d/, "/a"],
    [/\/api/, ""],
    [/^\/api|^\/users/, ""],
    [/^\/api/i, ""],
    [/^\/api/m, ""],
    [/^(?:\/api)/, ""],
  ];
  for (const [re, want] of cases) assert.equal(literalPrefix(re), want, String(re));
});

Deno.test("literalSuffix() takes the literal text before $ that every match ends with", () => {
  const cases: [RegExp, string][] = [
    [/^(?<name>.+)\.example\.com$/u, ".example.com"],
    [/^api\.example\.com$/, "api.example.com"],
    [/example\.com$/, "example.com"],
    [/ab?c$/, "c"],
    [/a{2}c$/, "c"],
    [/[a.]com$/, "com"],
    [/a\dcom$/, "com"],
    [/a\\.com$/, "com"],
    [/example\.com/, ""],
    [/a\$/, ""],
    [/a|b\.com$/, ""],
    [/\.com$/i, ""],
    [/\.com$/m, ""],
    [/(?:\.com)$/, ""],
  ];
  for (const [re, want] of cases) assert.equal(literalSuffix(re), want, String(re));
});

// ---------------------------------------------------------------- randomized equivalence

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEGMENTS = ["api", "v1", "v2", "users", "a", "b", "static", "img", "Api", "x.y", "1"];
const HOSTS = ["a.com", "b.a.com", "x.b.a.com", "example.com", "api.example.com", "h", "foo.bar"];
const PATH_REGEXES = [
  "^/api",
  "/users",
  "^/v[12]/(?<id>\\d+)$",
  "(?i)^/API/",
  "\\.(png|jpg)$",
  "^/(?<first>[a-z]+)/",
  "b$",
  "^/static/.*\\.css",
  "^/a?b",
  "^/api|^/users",
  "^/x\\.y",
  "^/v1+",
  "^/api$",
  "^/users/?$",
  "^/Api",
];
const HOST_REGEXES = [
  "^(?<sub>[a-z]+)\\.a\\.com$",
  "example",
  "^foo",
  "(?i)^API\\.",
  "\\.com$",
  "^api\\.example\\.com$",
  "b?\\.a\\.com$",
  "(?i)\\.A\\.com$",
  "\\.a\\.com|^h$",
  "[.]bar$",
  "H$",
];

function randomLocationsToml(rand: () => number, n: number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const segs = () => {
    let p = "";
    const k = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < k; i++) p += "/" + pick(SEGMENTS);
    if (rand() < 0.2) p += "/";
    return p;
  };
  const lines: string[] = [];
  const names: string[] = [];
  const hosted: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `l${i}`;
    names.push(name);
    lines.push(`[locations.${name}]`);
    const pk = rand();
    // A catch-all ("/" or no path, no host, no condition) with a high explicit
    // weight would win every request; only specific locations get weights.
    let specific = true;
    if (pk < 0.3) lines.push(`path = ${JSON.stringify("=" + segs())}`);
    else if (pk < 0.7) {
      const root = rand() < 0.05;
      if (root) specific = false;
      lines.push(`path = ${JSON.stringify(root ? "/" : segs())}`);
    } else if (pk < 0.85) lines.push(`path = ${JSON.stringify("~" + pick(PATH_REGEXES))}`);
    else specific = false;
    const hk = rand();
    if (hk < 0.3) {
      const items: string[] = [];
      const k = 1 + Math.floor(rand() * 2);
      for (let j = 0; j < k; j++) {
        const h = pick(HOSTS);
        items.push(rand() < 0.2 ? h.toUpperCase() : h);
      }
      lines.push(`host = ${JSON.stringify(items.join(","))}`);
    } else if (hk < 0.45) lines.push(`host = ${JSON.stringify("*." + pick(HOSTS))}`);
    else if (hk < 0.55) lines.push(`host = ${JSON.stringify("~" + pick(HOST_REGEXES))}`);
    else if (hk < 0.6) {
      lines.push(`host = ${JSON.stringify(`${pick(HOSTS)}, *.${pick(HOSTS)}, ~${pick(HOST_REGEXES)}`)}`);
    }
    if (hk < 0.6) {
      specific = true;
      hosted.push(name);
    }
    if (rand() < 0.1) {
      lines.push(`match_headers = [${JSON.stringify(rand() < 0.5 ? "x-v:1" : "x-c")}]`);
      specific = true;
    }
    if (rand() < 0.05) lines.push(`match_query = [${JSON.stringify(rand() < 0.5 ? "q:1" : "q")}]`);
    if (rand() < 0.05) lines.push(`match_cookies = ["s"]`);
    if (specific && rand() < 0.2) lines.push(`weight = ${Math.floor(rand() * 1200)}`);
  }
  lines.push("[servers.s]", 'addr = "127.0.0.1:6188"', `locations = ${toml(names)}`);
  // A second server with host-bound locations only, so that lookups also miss.
  lines.push("[servers.t]", 'addr = "127.0.0.1:6189"', `locations = ${toml(hosted)}`);
  return lines.join("\n");
}

function randomRequest(rand: () => number): RequestInit {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  let path = "";
  const k = Math.floor(rand() * 4);
  for (let i = 0; i < k; i++) path += "/" + pick([...SEGMENTS, "apis", "12", "logo.png", "s.css", "us"]);
  if (rand() < 0.15) path += "/";
  if (path === "" && rand() < 0.8) path = "/";
  const hk = rand();
  let host = hk < 0.6
    ? pick(HOSTS)
    : hk < 0.8
    ? pick(["zzz", "", "y.x.b.a.com", ".a.com", "xa.com", "a.example.com"])
    : pick(HOSTS).toUpperCase();
  if (rand() < 0.1) host = pick(["q", "api", "www"]) + "." + host;
  const headers: Record<string, string> = {};
  if (rand() < 0.3) headers["x-v"] = pick(["1", "2"]);
  if (rand() < 0.3) headers["x-c"] = "yes";
  const cookies: Record<string, string> = rand() < 0.3 ? { s: "1" } : {};
  return { host, path, query: pick(["", "q=1", "q=2", "q", "a=1&q=1"]), headers, cookies };
}

Deno.test("lookupRoute() agrees with lookupLinear() on 2000 random locations and 5000 random requests", () => {
  const seed = Number(Deno.env.get("ROUTES_SEED") ?? Math.floor(Math.random() * 2 ** 32));
  try {
    const rand = prng(seed);
    const text = randomLocationsToml(rand, 2000);
    const all = compileServer(text, "s");
    const hostOnly = compileServer(text, "t");
    assert.equal(all.ranked.length, 2000);
    // The rank order is the compiler's: weights never increase.
    for (let i = 1; i < all.ranked.length; i++) assert.ok(all.ranked[i - 1]!.weight >= all.ranked[i]!.weight);
    const stats = [all, hostOnly].map(() => ({ matched: 0, winners: new Set<number>() }));
    for (let i = 0; i < 5000; i++) {
      const init = randomRequest(rand);
      const req = request(init);
      [all, hostOnly].forEach((r, n) => {
        const compiled = lookupRoute(r.server.routes, r.ranked, req);
        const linear = lookupLinear(r.ranked, req);
        assert.equal(
          compiled,
          linear,
          `server ${r.server.name}, request ${JSON.stringify(init)}: compiled ${compiled}, linear ${linear}`,
        );
        if (linear >= 0) {
          stats[n]!.matched++;
          stats[n]!.winners.add(linear);
        }
      });
    }
    // The generator must exercise the table: many winners, and some misses.
    const [s, t] = stats as [typeof stats[0], typeof stats[0]];
    assert.ok(s.winners.size > 40, `only ${s.winners.size} distinct winners`);
    assert.ok(t.winners.size > 40, `only ${t.winners.size} distinct winners`);
    assert.ok(t.matched > 500 && t.matched < 4900, `${t.matched} of 5000 requests matched a host-bound location`);
    if (Deno.env.get("ROUTES_VERBOSE")) {
      console.log({ seed, all: [s.matched, s.winners.size], hostOnly: [t.matched, t.winners.size] });
    }
  } catch (e) {
    console.error(`Random routing test failed with seed ${seed}; rerun with ROUTES_SEED=${seed}`);
    throw e;
  }
});
