/**
 * Pingap 0.16's new keys (../shared/pingap-inventory-0.16.md §A1.1–§A1.5):
 * the fixture tests/fixtures/pingap_016_new_keys.toml sets every one and
 * compiles with no error and a not-applied warning exactly at the keys
 * this version does not apply; each of Pingap's new rules is an error at
 * its key with Pingap's words.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { compileSources, formatPath } from "../compiler/mod.ts";

const FIXTURE = new URL("fixtures/pingap_016_new_keys.toml", import.meta.url);

/** The keys Pingap 0.16 added, by section (the inventory's tables). */
const NEW_KEYS: Record<string, string[]> = {
  basic: [
    "working_directory",
    "restart_ready_timeout",
    "max_blocking_threads",
    "downstream_tls_offload_threadpools",
    "downstream_tls_offload_thread_per_pool",
    "upstream_connect_offload_threadpools",
    "upstream_connect_offload_thread_per_pool",
    "webhook_batch_window",
    "webhook_batch_max_events",
    "webhook_min_level",
    "webhook_headers",
    "webhook_secret",
    "webhook_template",
    "webhook_retries",
  ],
  "servers.web": [
    "tls_client_ca",
    "tls_client_auth",
    "ja4",
    "proxy_protocol",
    "h2_max_concurrent_streams",
    "h2_max_header_list_size",
    "h2_initial_window_size",
    "h2_initial_connection_window_size",
    "h2_idle_timeout",
    "h1_pipelining",
  ],
  "locations.api": ["connection_timeout", "read_timeout", "write_timeout"],
  "upstreams.api": [
    "fail_open",
    "strip_hop_by_hop",
    "strip_connection_nominated",
    "reject_malformed_connection_nominations",
    "h1_upgrade",
    "ca",
    "client_cert",
    "client_key",
    "h2_stream_window_size",
    "h2_connection_window_size",
  ],
  "certificates.site": [
    "acme_directory",
    "acme_ca",
    "acme_eab_kid",
    "acme_eab_hmac",
    "acme_contact",
    "acme_key_type",
    "ocsp_stapling",
  ],
};

/** Where the fixture must warn: every new key this version does not apply. */
const NOT_APPLIED = [
  "basic.working_directory",
  "basic.restart_ready_timeout",
  "basic.max_blocking_threads",
  "basic.downstream_tls_offload_threadpools",
  "basic.downstream_tls_offload_thread_per_pool",
  "basic.upstream_connect_offload_threadpools",
  "basic.upstream_connect_offload_thread_per_pool",
  "certificates.site.ocsp_stapling",
];

Deno.test("the fixture sets every key Pingap 0.16 added", async () => {
  const raw = parse(await Deno.readTextFile(FIXTURE)) as Record<string, Record<string, unknown>>;
  for (const [where, keys] of Object.entries(NEW_KEYS)) {
    const table = where.split(".").reduce<Record<string, unknown>>((t, k) => t[k] as Record<string, unknown>, raw);
    for (const key of keys) assert.ok(key in table, `${where}.${key} is not in the fixture`);
  }
  assert.equal(Object.values(NEW_KEYS).flat().length, 14 + 10 + 3 + 10 + 7);
});

Deno.test("the fixture compiles with no error and a not-applied warning at exactly the keys not applied", async () => {
  const r = compileSources([{ file: "pingap_016_new_keys.toml", text: await Deno.readTextFile(FIXTURE) }]);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${formatPath(d.path)}: ${d.message}`), []);
  assert.ok(r.plan);
  const warned = r.diagnostics.filter((d) => d.code === "not-applied").map((d) => formatPath(d.path));
  assert.deepEqual(warned.sort(), [...NOT_APPLIED].sort());
  const others = r.diagnostics.filter((d) => d.severity === "warning" && d.code !== "not-applied");
  assert.deepEqual(others.map((d) => `${formatPath(d.path)}: ${d.message}`), []);
  // Applied values are in the plan as Pingap reads them.
  assert.equal(r.plan.basic.webhook_min_level, "warn");
  assert.deepEqual(r.plan.basic.webhook_headers, [["authorization", "Bearer abc123"]]);
  assert.equal(r.plan.servers[0]!.accessLog?.json, true);
});

const BASE = '[upstreams.u]\naddrs = ["127.0.0.1:1"]\n[locations.l]\nupstream = "u"\n';

/** Pingap's rules: `[toml, key path, message]`. */
const RULES: [string, string, RegExp][] = [
  ['[basic]\nrestart_ready_timeout = "500ms"', "basic.restart_ready_timeout", /at least 1s/],
  ['[basic]\nauto_restart_check_interval = "0s"', "basic.auto_restart_check_interval", /at least 1s/],
  ["[basic]\nmax_blocking_threads = 0", "basic.max_blocking_threads", /out of range/],
  [
    "[basic]\ndownstream_tls_offload_threadpools = 2",
    "basic.downstream_tls_offload_threadpools",
    /threadpools and thread per pool should be set together/,
  ],
  [
    "[basic]\nupstream_connect_offload_thread_per_pool = 2",
    "basic.upstream_connect_offload_thread_per_pool",
    /should be set together/,
  ],
  ['[basic]\nwebhook_min_level = "debug"', "basic.webhook_min_level", /Unknown value "debug"/],
  ['[basic]\nwebhook_headers = ["Authorization"]', "basic.webhook_headers[0]", /should be `Name: value`/],
  ["[basic]\nwebhook_retries = 11", "basic.webhook_retries", /out of range/],
  ['[basic]\nlog_compress_algorithm = "brotli"', "basic.log_compress_algorithm", /Unknown value "brotli"/],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\ntls_client_ca = "/ca.pem"',
    "servers.s.tls_client_ca",
    /^tls_client_ca needs a TLS listener \(global_certificates = true\)$/,
  ],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\nglobal_certificates = true\ntls_client_ca = "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"',
    "servers.s.tls_client_ca",
    /^tls_client_ca: certificate 1 does not parse/,
  ],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\nglobal_certificates = true\ntls_client_ca = "-----BEGIN PRIVATE KEY-----"',
    "servers.s.tls_client_ca",
    /^tls_client_ca holds no PEM certificate$/,
  ],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\nglobal_certificates = true\ntls_client_auth = "optional"',
    "servers.s.tls_client_auth",
    /^tls_client_auth needs tls_client_ca$/,
  ],
  ['[servers.s]\naddr = "127.0.0.1:1"\nja4 = true', "servers.s.ja4", /^ja4 needs a TLS listener/],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\nproxy_protocol = true',
    "servers.s.proxy_protocol",
    /^server\(s\): proxy_protocol needs basic.trusted_proxies/,
  ],
  ['[servers.s]\naddr = "127.0.0.1:1"\nh2_max_concurrent_streams = 0', "servers.s.h2_max_concurrent_streams", /./],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\nh2_initial_window_size = "3gib"',
    "servers.s.h2_initial_window_size",
    /^h2 initial window size should be between 1 and 2GiB - 1$/,
  ],
  ['[servers.s]\naddr = "127.0.0.1:1"\ntcp_idle = "500ms"', "servers.s.tcp_idle", /^tcp idle should be at least 1s$/],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\ntcp_interval = "0s"',
    "servers.s.tcp_interval",
    /^tcp interval should be at least 1s$/,
  ],
  ['[servers.s]\naddr = "127.0.0.1:1"\ntcp_probe_count = 0', "servers.s.tcp_probe_count", /out of range/],
  [
    '[servers.s]\naddr = "127.0.0.1:1"\naccess_log = "/var/log/access.log"',
    "servers.s.access_log",
    /logs nothing of the request/,
  ],
  [`${BASE}read_timeout = "0s"`, "locations.l.read_timeout", /^read_timeout must be greater than zero$/],
  ['[upstreams.u]\naddrs = ["127.0.0.1:1"]\ndiscovery = "consul"', "upstreams.u.discovery", /Unknown value/],
  [
    '[upstreams.u]\naddrs = ["_http._tcp.api"]\ndiscovery = "SRV"\nupdate_frequency = "0s"',
    "upstreams.u.update_frequency",
    /^update frequency should be greater than 0 for srv discovery$/,
  ],
  [
    '[upstreams.u]\naddrs = ["api.internal"]\ndiscovery = "dns"\nupdate_frequency = "0s"',
    "upstreams.u.update_frequency",
    /^update frequency should be greater than 0 for dns discovery$/,
  ],
  ['[upstreams.u]\naddrs = ["127.0.0.1:1 0"]', "upstreams.u.addrs[0]", /weight must be a positive integer/],
  ['[upstreams.u]\naddrs = ["127.0.0.1:1 2 x"]', "upstreams.u.addrs[0]", /has more than a weight after the address/],
  ['[upstreams.u]\naddrs = ["127.0.0.1:1"]\nalgo = "sticky:"', "upstreams.u.algo", /needs a cookie name/],
  [
    '[upstreams.u]\naddrs = ["127.0.0.1:1"]\nclient_cert = "/c.pem"',
    "upstreams.u.client_cert",
    /^client_cert and client_key are set together$/,
  ],
  [
    '[upstreams.u]\naddrs = ["127.0.0.1:1"]\nh1_upgrade = "always"',
    "upstreams.u.h1_upgrade",
    /Unknown value "always"/,
  ],
  [
    '[upstreams.u]\naddrs = ["127.0.0.1:1"]\nbackend_stats_interval = "0s"',
    "upstreams.u.backend_stats_interval",
    /^backend stats interval should be at least 1ms$/,
  ],
  [
    '[upstreams.u]\naddrs = ["127.0.0.1:1"]\ncircuit_break_max_failure_percent = 101',
    "upstreams.u.circuit_break_max_failure_percent",
    /out of range/,
  ],
  ['[upstreams.u]\nsni = "x"', "upstreams.u.addrs", /Missing required key "addrs"/],
  [
    '[certificates.c]\ndomains = "a.com"\nacme = "lets_encrypt"\nacme_eab_kid = "k"',
    "certificates.c.acme_eab_kid",
    /^acme_eab_kid and acme_eab_hmac should be set together$/,
  ],
  ['[certificates.c]\nacme_eab_hmac = "not base64!"', "certificates.c.acme_eab_hmac", /^acme_eab_hmac is not base64$/],
  [
    '[certificates.c]\nacme_contact = "mailto:ops"',
    "certificates.c.acme_contact",
    /^acme_contact\(ops\) is not an e-mail address$/,
  ],
  [
    '[certificates.c]\nacme_directory = "http://acme.test/dir"',
    "certificates.c.acme_directory",
    /acme_directory\(http:\/\/acme\.test\/dir\) should be an https url/,
  ],
  ['[certificates.c]\nacme_key_type = "ed25519"', "certificates.c.acme_key_type", /Unknown value "ed25519"/],
  [
    '[certificates.c]\nacme_ca = "-----BEGIN CERTIFICATE-----"',
    "certificates.c.acme_ca",
    /should be the path of a PEM file/,
  ],
];

for (const [text, path, message] of RULES) {
  Deno.test(`Pingap's rule: ${path} (${message.source})`, () => {
    const r = compileSources([{ file: "a.toml", text }]);
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    const at = errors.find((d) => formatPath(d.path) === path);
    assert.ok(at, `no error at ${path}: ${JSON.stringify(errors.map((d) => [formatPath(d.path), d.message]))}`);
    // Pingap's words are the message, or for a range the hint.
    assert.ok(message.test(at.message) || message.test(at.hint ?? ""), `${at.message} / ${at.hint}`);
  });
}

Deno.test('discovery = "transparent" needs no addrs', () => {
  const r = compileSources([{ file: "a.toml", text: '[upstreams.u]\ndiscovery = "transparent"\n' }]);
  assert.ok(r.plan, JSON.stringify(r.diagnostics));
});

Deno.test("proxy_protocol is applied on every listener, enabled_h2 ones too (no not-applied warning)", () => {
  const warnedAt = (extra: string) => {
    const text =
      `[basic]\ntrusted_proxies = ["10.0.0.0/8"]\n[servers.s]\naddr = "127.0.0.1:1"\nproxy_protocol = true\n${extra}`;
    const r = compileSources([{ file: "t.toml", text }]);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message), []);
    return r.diagnostics.filter((d) => d.code === "not-applied").map((d) => `${formatPath(d.path)}: ${d.message}`);
  };
  assert.deepEqual(warnedAt(""), []);
  assert.deepEqual(warnedAt("global_certificates = true"), []);
  assert.deepEqual(warnedAt("global_certificates = true\nenabled_h2 = true"), []);
  assert.deepEqual(warnedAt("enabled_h2 = true"), []);
});

Deno.test("ja4 is in the plan of a TLS server; a JA4 context key on a server without it is warned as printing nothing", () => {
  const compile = (extra: string) => {
    const text = `[servers.s]\naddr = "127.0.0.1:1"\naccess_log = "{:ja4} {:ja4_ro} {status}"\n${extra}`;
    const r = compileSources([{ file: "t.toml", text }]);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message), []);
    const warned = r.diagnostics.filter((d) => d.code === "not-applied").map((d) =>
      `${formatPath(d.path)}: ${d.message}`
    );
    return { server: r.plan!.servers[0]!, warned };
  };
  const on = compile("global_certificates = true\nja4 = true");
  assert.equal(on.server.ja4, true);
  assert.deepEqual(on.warned, []);
  const off = compile("global_certificates = true");
  assert.equal(off.server.ja4, undefined);
  assert.equal(off.warned.length, 2);
  assert.match(off.warned[0]!, /^servers\.s\.access_log: Context key "\{:ja4\}".*ja4 = true/);
});
