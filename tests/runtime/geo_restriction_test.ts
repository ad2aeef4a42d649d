/**
 * `geo_restriction` over real sockets (issue 18): the proxy in its own process reads a real MaxMind-format database,
 * the CC0 `geo-whois-asn-country.mmdb` of the npm package `@ip-location-db/geo-whois-asn-country-mmdb` (pinned in
 * package.json; `npm install` brings it; its records read `{country_code}`), and curl is the client. Pingap 0.16's
 * vectors 151 (allow AU, DE, FR, JP: an AU address and its IPv4-mapped form pass, a DE one passes, a US one and an
 * unknown one do not) and 152 (X-Forwarded-For from an untrusted peer is not the client), `header` telling the
 * upstream the country (never the client's own copy), `reporting` logging, and a missing database refusing to start.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, freePort, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";

const DATABASE = new URL(
  "../../node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
  import.meta.url,
).pathname;

async function curl(url: string, ...args: string[]): Promise<{ status: number; body: string }> {
  const out = await new Deno.Command("curl", { args: ["-s", "-w", "\n%{http_code}", "--max-time", "20", ...args, url] })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const text = new TextDecoder().decode(out.stdout);
  const nl = text.lastIndexOf("\n");
  return { status: Number(text.slice(nl + 1)), body: text.slice(0, nl) };
}

function config(port: number, origin: Origin, basic: string, database = DATABASE): string {
  return `[basic]\n${basic}\n\n[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = ["allow", "deny", "report"]\n\n` +
    `[upstreams.app]\naddrs = ["${origin.addr}"]\n\n` +
    `[locations.allow]\npath = "/allow"\nupstream = "app"\nplugins = ["fourCountries"]\n\n` +
    `[locations.deny]\npath = "/deny"\nupstream = "app"\nplugins = ["notUs"]\n\n` +
    `[locations.report]\npath = "/report"\nupstream = "app"\nplugins = ["report"]\n\n` +
    `[plugins.fourCountries]\ncategory = "geo_restriction"\ntype = "allow"\ncountry_codes = ["AU, DE", "FR JP"]\n` +
    `database = "${database}"\nheader = "X-Country"\n\n` +
    `[plugins.notUs]\ncategory = "geo_restriction"\ntype = "deny"\ncountry_codes = ["US"]\n` +
    `database = "${database}"\nheader = "X-Country"\nmessage = "Not from there"\n\n` +
    `[plugins.report]\ncategory = "geo_restriction"\ntype = "reporting"\ndatabase = "${database}"\n`;
}

async function withProxy(
  basic: string,
  fn: (url: string, output: () => string) => Promise<void>,
): Promise<void> {
  await Deno.stat(DATABASE).catch(() => {
    throw new Error(`${DATABASE} is missing: run \`npm install\` in the project root`);
  });
  const origin = await startEchoOrigin("app");
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  const port = freePort();
  await Deno.writeTextFile(file, config(port, origin, basic));
  const child = spawnDeno([...START_ARGS, file]);
  try {
    await child.waitFor(/listening on/);
    await fn(`http://127.0.0.1:${port}`, child.output);
  } finally {
    assert.equal(await child.stop(), 0, child.output());
    await origin.close();
    await Deno.remove(file);
  }
}

Deno.test("geo_restriction over real sockets: vector 151 through a trusted proxy, the country header", async () => {
  await withProxy('trusted_proxies = ["127.0.0.1"]', async (url, output) => {
    const from = (ip: string) => ["-H", `X-Forwarded-For: ${ip}`];
    const au = await curl(`${url}/allow`, ...from("1.1.1.1"), "-H", "X-Country: FR");
    assert.equal(au.status, 200, au.body);
    assert.equal((JSON.parse(au.body) as Echo).headers["x-country"], "AU", "the country found, not the client's");
    assert.equal((await curl(`${url}/allow`, ...from("::ffff:1.1.1.1"))).status, 200, "IPv4-mapped is read as IPv4");
    assert.equal((await curl(`${url}/allow`, ...from("5.6.7.8"))).status, 200, "DE");
    const us = await curl(`${url}/allow`, ...from("8.8.8.8"));
    assert.equal(us.status, 403);
    assert.equal(us.body, "Access from your country is not allowed");
    assert.equal((await curl(`${url}/allow`)).status, 403, "127.0.0.1 has no country: it fails an allow list");
    const unknown = await curl(`${url}/deny`, "-H", "X-Country: FR");
    assert.equal(unknown.status, 200, "and passes a deny list");
    assert.equal((JSON.parse(unknown.body) as Echo).headers["x-country"], undefined, "the client's copy is removed");
    const denied = await curl(`${url}/deny`, ...from("9.9.9.9"));
    assert.deepEqual(denied, { status: 403, body: "Not from there" });
    assert.equal((await curl(`${url}/report`, ...from("8.8.8.8"))).status, 200, "reporting refuses nothing");
    for (let i = 0; i < 500 && !/geoip lookup/.test(output()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(output(), /geoip lookup .*ip=8\.8\.8\.8 .*country=US/);
  });
});

Deno.test("geo_restriction over real sockets: vector 152, X-Forwarded-For from an untrusted peer is ignored", async () => {
  await withProxy("", async (url) => {
    assert.equal((await curl(`${url}/allow`, "-H", "X-Forwarded-For: 1.1.1.1")).status, 403);
    assert.equal((await curl(`${url}/deny`, "-H", "X-Forwarded-For: 8.8.8.8")).status, 200);
  });
});

Deno.test("geo_restriction: a database that cannot be read stops start (fail closed)", async () => {
  const origin = await startEchoOrigin("app");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  await Deno.writeTextFile(`${dir}/broken.mmdb`, "not a database");
  try {
    for (const database of [`${dir}/missing.mmdb`, `${dir}/broken.mmdb`]) {
      await Deno.writeTextFile(file, config(port, origin, "", database));
      const child = spawnDeno([...START_ARGS, file]);
      // Serving instead of stopping is the failure: stopped after 30 s, it exits 0 and the test says so.
      const timer = setTimeout(() => void child.stop(), 30_000);
      const code = await child.exited();
      clearTimeout(timer);
      assert.equal(code, 1, child.output());
      assert.match(child.output(), /geo_restriction: database .* can not be read/);
      assert.doesNotMatch(child.output(), /listening on/);
    }
  } finally {
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("geo_restriction: check --live reads the database, as start will; plain check does no I/O", async () => {
  const origin = await startEchoOrigin("app");
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  try {
    await Deno.writeTextFile(file, config(freePort(), origin, "", `${dir}/missing.mmdb`));
    const check = async (...flags: string[]) => {
      const child = spawnDeno(["run", "-A", "mod.ts", "check", "-c", file, ...flags]);
      return { code: await child.exited(), out: child.output() };
    };
    const plain = await check();
    assert.equal(plain.code, 0, plain.out);
    const live = await check("--live");
    assert.equal(live.code, 1, live.out);
    const errors = live.out.split("\n").filter((l) => l.includes(" error: "));
    assert.equal(errors.length, 3, live.out);
    assert.match(
      errors.find((l) => l.includes("  plugins.fourCountries.database  "))!,
      /error: geo_restriction: database .*missing\.mmdb can not be read: .* {2}\(Point database at a MaxMind-format/,
    );
    await Deno.writeTextFile(file, config(freePort(), origin, ""));
    const good = await check("--live");
    assert.equal(good.code, 0, good.out);
  } finally {
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
