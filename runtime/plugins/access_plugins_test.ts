/**
 * The access plugins without sockets: Pingap's test vectors (inventory §11
 * 80, 89, 96, 103, 104 and the 0.16 addendum's 151 and 153) on the decision
 * functions and counters, with plans made by the real compiler, and the
 * limit's sliding window on a clock the test moves.
 */
import assert from "node:assert/strict";
import {
  compileSources,
  formatPath,
  type GeoRestrictionPlan,
  type IpRestrictionPlan,
  type LimitPlan,
  type PluginPlan,
  type RefererRestrictionPlan,
  type UaRestrictionPlan,
} from "../../compiler/mod.ts";
import { resolveClientIp } from "../proxy/client_ip.ts";
import { ipVerdict } from "./ip_restriction.ts";
import { uaAllows } from "./ua_restriction.ts";
import { refererAllows } from "./referer_restriction.ts";
import { exceedBody, limitKey, missingKeyBody } from "./limit.ts";
import { InflightCounter, RateCounter } from "./limit_counter.ts";
import { limit } from "./limit.ts";
import type { RequestContext } from "../proxy/context.ts";
import { toFetchResponse } from "../http/fetch_adapter.ts";
import type { HttpResponse } from "../http/message.ts";
import { geoAllows } from "./geo_restriction.ts";
import { acquireGeoDatabase, canonicalIp, recordCountry, releaseGeoDatabase } from "./geo_database.ts";

/** Compiles one plugin table; returns its plan, or the error diagnostics as `path: message (hint)`. */
function compile(table: string): { plan?: PluginPlan; errors: string[] } {
  const text = `[plugins.p]\n${table}\n`;
  const { plan, diagnostics } = compileSources([{ file: "t.toml", text }]);
  const errors = diagnostics.filter((d) => d.severity === "error").map((d) =>
    `${formatPath(d.path)}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`
  );
  const p = plan?.plugins.find((x) => x.name === "p");
  return p ? { plan: p, errors } : { errors };
}

function config<T>(table: string): T {
  const r = compile(table);
  assert.deepEqual(r.errors, []);
  return r.plan!.config as T;
}

Deno.test("ip_restriction: vector 80, the client IP from trusted_proxies only", () => {
  const deny = config<IpRestrictionPlan>(
    'category = "ip_restriction"\ntype = "deny"\nip_list = ["192.168.1.1", "1.1.1.0/24"]',
  );
  const allow = config<IpRestrictionPlan>(
    'category = "ip_restriction"\ntype = "allow"\nip_list = ["192.168.1.1", "1.1.1.0/24"]',
  );
  const trusted = config<IpRestrictionPlan>('category = "ip_restriction"\nip_list = ["127.0.0.1"]').ipList;
  const xff = (value: string) => (name: string) => name === "x-forwarded-for" ? value : null;
  // Pingap's vector, from a trusted proxy: X-Forwarded-For names the client.
  assert.equal(ipVerdict(deny, resolveClientIp("127.0.0.1", trusted, xff("2.1.1.2"))), "pass");
  assert.equal(ipVerdict(deny, resolveClientIp("127.0.0.1", trusted, xff("192.168.1.1"))), "forbidden");
  assert.equal(ipVerdict(deny, "1.1.1.2"), "forbidden");
  assert.equal(ipVerdict(allow, resolveClientIp("127.0.0.1", trusted, xff("192.168.1.1"))), "pass");
  // From anyone else, or with no trusted_proxies, the header is the client's word and counts for nothing.
  assert.equal(ipVerdict(deny, resolveClientIp("10.0.0.9", trusted, xff("192.168.1.1"))), "pass");
  assert.equal(ipVerdict(allow, resolveClientIp("127.0.0.1", undefined, xff("192.168.1.1"))), "forbidden");
  assert.equal(ipVerdict(allow, "::ffff:1.1.1.9"), "pass", "an IPv4-mapped address is matched as IPv4");
  assert.equal(ipVerdict(allow, "not-an-ip"), "bad_ip");
  assert.equal(deny.message, "Request is forbidden");
});

Deno.test("ua_restriction: vectors 103 and 104", () => {
  const deny = config<UaRestrictionPlan>(
    'category = "ua_restriction"\ntype = "deny"\nua_list = ["go-http-client/1.1", "(Twitterspider)/(\\\\d+)\\\\.(\\\\d+)"]',
  );
  assert.ok(uaAllows(deny, "pingap/1.0"));
  assert.ok(!uaAllows(deny, "go-http-client/1.1"));
  assert.ok(!uaAllows(deny, "Twitterspider/1.1"));
  assert.ok(uaAllows(deny, null), "no User-Agent matches nothing: a deny list lets it pass");
  assert.equal(config<UaRestrictionPlan>('category = "ua_restriction"\ntype = "Deny"\nua_list = ["x"]').type, "deny");
  const denied = compile('category = "ua_restriction"\ntype = "denied"\nua_list = ["x"]');
  assert.equal(denied.errors.length, 1);
  assert.match(denied.errors[0]!, /^plugins\.p\.type: Unknown value "denied" \(/);
  const allow = config<UaRestrictionPlan>('category = "ua_restriction"\nua_list = ["^curl/"]');
  assert.ok(uaAllows(allow, "curl/8.5.0") && !uaAllows(allow, "wget/1.21") && !uaAllows(allow, null));
});

Deno.test("referer_restriction: vector 96", () => {
  const deny = config<RefererRestrictionPlan>(
    'category = "referer_restriction"\ntype = "deny"\nreferer_list = ["github.com", "*.bing.cn"]',
  );
  assert.deepEqual(deny.suffixes, [".bing.cn"]);
  assert.ok(refererAllows(deny, "https://google.com/"));
  assert.ok(!refererAllows(deny, "https://github.com/"));
  assert.ok(!refererAllows(deny, "https://test.bing.cn/"));
  assert.ok(!refererAllows(deny, "https://GitHub.com/x"), "hosts compare case-insensitively");
  assert.ok(refererAllows(deny, "not a url"), "a Referer that is no URL matches nothing");
  const allow = config<RefererRestrictionPlan>('category = "referer_restriction"\nreferer_list = ["*.Example.org "]');
  assert.ok(refererAllows(allow, "http://a.example.org/page") && !refererAllows(allow, null));
});

/** A request as the limit plugin sees it. */
function request(fields: { ip?: string; header?: Record<string, string>; cookie?: Record<string, string> }) {
  const finishers: (() => void)[] = [];
  const ctx = {
    clientIp: () => fields.ip ?? "127.0.0.1",
    header: (n: string) => fields.header?.[n] ?? null,
    cookie: (n: string) => fields.cookie?.[n],
    query: (_n: string) => undefined,
    onFinish: (fn: () => void) => void finishers.push(fn),
    finish: () => finishers.splice(0).forEach((fn) => fn()),
  };
  return ctx as unknown as RequestContext & { finish(): void };
}

async function answer(r: unknown): Promise<{ status: number; body: string; headers: Headers } | undefined> {
  if (r === undefined) return undefined;
  const res = toFetchResponse(r as HttpResponse);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

Deno.test("limit: vector 89, inflight max 0 refuses and max 1 lets the first through, for every tag", async () => {
  const zero = limit.create(compile('category = "limit"\ntype = "inflight"\nmax = 0').plan!, { stats: () => ({}) });
  const refused = await answer(zero.request!(request({ ip: "1.1.1.1" })));
  assert.equal(refused?.status, 429);
  assert.equal(refused?.body, "Plugin limit, exceed limit 1/0");
  assert.equal(refused?.headers.get("retry-after"), null, "no Retry-After on an inflight refusal");
  zero.dispose!();
  for (const tag of ['tag = "ip"', 'tag = "cookie"\nkey = "deviceId"', 'tag = "header"\nkey = "X-Uuid"']) {
    const one = limit.create(compile(`category = "limit"\ntype = "inflight"\nmax = 1\n${tag}`).plan!, {
      stats: () => ({}),
    });
    const req = request({ ip: "1.1.1.1", header: { "x-uuid": "138q71" }, cookie: { deviceId: "abc" } });
    assert.equal(one.request!(req), undefined, tag);
    const second = request({ ip: "1.1.1.1", header: { "x-uuid": "138q71" }, cookie: { deviceId: "abc" } });
    assert.equal((await answer(one.request!(second)))?.status, 429, `${tag}: the first still holds its slot`);
    req.finish();
    assert.equal(one.request!(second), undefined, `${tag}: the slot is given back when the first ends`);
    second.finish();
    one.dispose!();
  }
});

Deno.test("limit: vector 153 and the 0.16 rules", () => {
  assert.equal(config<LimitPlan>('category = "limit"\nmax = 10\ninterval = "30s"').retryAfter, "30");
  assert.equal(config<LimitPlan>('category = "limit"\ntype = "inflight"\nmax = 10').retryAfter, "");
  const errorsOf = (t: string) => compile(`category = "limit"\n${t}`).errors;
  assert.match(errorsOf('tag = "cookies"\nkey = "a"\nmax = 1')[0]!, /^plugins\.p\.tag: Unknown value "cookies"/);
  assert.match(errorsOf("max = -1")[0]!, /^plugins\.p\.max: /);
  assert.match(errorsOf('max = 1\ninterval = "0s"')[0]!, /^plugins\.p\.interval: interval must be at least 1ms/);
  // Pingap 0.16 requires key and max; Pingap's own sample has neither, so both are warnings that fail closed.
  assert.deepEqual(errorsOf('tag = "header"\nmax = 1'), []);
  assert.deepEqual(errorsOf('type = "rate"'), []);
  assert.equal(limitKey({ tag: "header", key: "" }, request({})), "*", "no key name: one shared budget");
  assert.equal(config<LimitPlan>('category = "limit"\ntype = "rate"').max, 0, "no max: every request refused");
  assert.equal(missingKeyBody({ tag: "header", keyName: "X-App" }), "Plugin limit, the header X-App is required");
  assert.equal(missingKeyBody({ tag: "query", keyName: "app" }), "Plugin limit, the query parameter app is required");
  assert.equal(exceedBody(10.5, 10), "Plugin limit, exceed limit 10.5/10");
  assert.equal(limitKey({ tag: "header", key: "x-app" }, request({ header: { "x-app": "a" } })), "a");
  assert.equal(limitKey({ tag: "cookie", key: "sid" }, request({})), "");
});

Deno.test("limit: the sliding window lets max through per interval, counts no refusal, and forgets old keys", () => {
  const c = new RateCounter(1000);
  const t0 = 10_000; // the start of a window
  for (let i = 1; i <= 10; i++) assert.equal(c.take("a", 10, t0 + i), i);
  assert.ok(c.take("a", 10, t0 + 500) > 10, "the 11th in the window is refused");
  assert.ok(c.take("a", 10, t0 + 999) > 10);
  // Half into the next window, half of the previous one still counts: 5 more fit, and refused ones did not count.
  let passed = 0;
  for (let i = 0; i < 20; i++) if (c.take("a", 10, t0 + 1500) <= 10) passed++;
  assert.equal(passed, 5);
  assert.equal(c.take("b", 10, t0 + 1500), 1, "keys are apart");
  // Two windows later nothing is left.
  assert.equal(c.take("a", 10, t0 + 3000), 1);
  c.take("c", 10, t0 + 6000);
  assert.equal(c.size, 1, "keys idle for two windows are dropped");
  // Counts from another worker add to the window they were taken in.
  c.add("c", Math.floor((t0 + 6000) / 1000), 8, t0 + 6100);
  assert.equal(c.take("c", 10, t0 + 6200), 10);
  assert.ok(c.take("c", 10, t0 + 6300) > 10);
  assert.ok(c.resetSeconds("c", t0 + 6300) >= 1);
  const inflight = new InflightCounter();
  assert.equal(inflight.enter("k"), 1);
  inflight.leave("k");
  assert.equal(inflight.size, 0);
});

Deno.test("geo_restriction: vector 151 on a real .mmdb, and the record shapes Pingap 0.16 reads", () => {
  const path = new URL(
    "../../node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
    import.meta.url,
  ).pathname;
  const plan = config<GeoRestrictionPlan>(
    `category = "geo_restriction"\ntype = "allow"\ncountry_codes = ["AU,DE", "FR JP"]\ndatabase = "${path}"`,
  );
  const db = acquireGeoDatabase(plan.database);
  try {
    const allowed = (ip: string) => geoAllows(plan, db.country(ip));
    assert.ok(allowed("1.1.1.1") && allowed("::ffff:1.1.1.1"), "AU, also IPv4-mapped");
    assert.ok(allowed("5.6.7.8"), "DE");
    assert.ok(!allowed("8.8.8.8"), "US");
    assert.ok(!allowed("127.0.0.1") && !allowed("unknown"), "no country fails an allow list");
    const deny = { ...plan, type: "deny" as const, countryCodes: ["US"] };
    assert.ok(geoAllows(deny, db.country("127.0.0.1")) && !geoAllows(deny, db.country("9.9.9.9")));
    assert.ok(geoAllows({ ...plan, type: "reporting" }, "US"));
  } finally {
    releaseGeoDatabase(db);
  }
  assert.equal(recordCountry({ country: { iso_code: "de", names: { en: "Germany" } } }), "DE");
  assert.equal(recordCountry({ country_code: "us" }), "US");
  assert.equal(recordCountry({ country: "JP" }), "JP");
  assert.equal(recordCountry({ country: { names: {} }, country_code: "FRA" }), undefined);
  assert.equal(canonicalIp("::FFFF:1.2.3.4"), "1.2.3.4");
  assert.equal(canonicalIp("::ffff:102:304"), "1.2.3.4");
  assert.equal(canonicalIp("2001:db8::1"), "2001:db8::1");
});

Deno.test("geo_restriction: a changed database file is read again, a missing one keeps the loaded copy", async () => {
  const dir = new URL("../../node_modules/@ip-location-db/geo-whois-asn-country-mmdb/", import.meta.url).pathname;
  const tmp = await Deno.makeTempDir();
  const path = `${tmp}/geo.mmdb`;
  await Deno.copyFile(`${dir}geo-whois-asn-country-ipv6.mmdb`, path);
  const db = acquireGeoDatabase(path);
  try {
    assert.equal(db.country("2001:4860:4860::8888"), "US");
    assert.equal(db.country("8.8.8.8"), undefined, "the IPv6 database has no IPv4 countries");
    await Deno.copyFile(`${dir}geo-whois-asn-country.mmdb`, path);
    await Deno.utime(path, new Date(), new Date(Date.now() + 60_000)); // a later mtime, whatever the clock's grain
    for (let i = 0; i < 250 && db.country("8.8.8.8") === undefined; i++) {
      db.refresh();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(db.country("8.8.8.8"), "US", "the new file was read");
    await Deno.remove(path);
    db.refresh();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(db.country("1.1.1.1"), "AU", "the loaded copy is kept");
  } finally {
    releaseGeoDatabase(db);
    await Deno.remove(tmp, { recursive: true });
  }
});
