/**
 * The Plan carries resolved, typed fields: what the runtime reads is
 * computed once here (durations in ms, defaults filled, URLs parsed), and a
 * value the runtime could not use is a check error at its key.
 */
import assert from "node:assert/strict";
import { compileSources } from "./compile.ts";
import { type Diagnostic, formatPath } from "./diagnostic.ts";

function compileText(text: string) {
  return compileSources([{ file: "inline.toml", text }]);
}

function errors(diags: readonly Diagnostic[]): Diagnostic[] {
  return diags.filter((d) => d.severity === "error");
}

const CONFIG = `[servers.s]
addr = "127.0.0.1:6188"
locations = ["l"]
prometheus_metrics = "http://u:p%40ss@gw:9091/metrics/job/pingap/instance/$HOSTNAME?interval=2m30s"
otlp_exporter = "127.0.0.1:4318?max_queue_size=100&timeout=1s"
downstream_read_timeout = "5s"

[locations.l]
upstream = "u"
client_max_body_size = "1kb"
read_timeout = "2s"

[upstreams.u]
addrs = ["127.0.0.1:8080", "10.0.0.1 5"]
connection_timeout = "3s"
enable_backend_stats = true
backend_failure_status_code = "502,503"
dns_domain = "svc"
dns_search = "a.internal"

[certificates.c]
tls_cert = "/etc/c.crt"
tls_key = "/etc/c.key"
is_default = true
`;

Deno.test("plan nodes carry resolved fields, not the config", () => {
  const { plan, diagnostics } = compileText(CONFIG);
  assert.ok(plan, JSON.stringify(errors(diagnostics)));
  const [sp, lp, up, cp] = [plan.servers[0]!, plan.locations[0]!, plan.upstreams[0]!, plan.certificates[0]!];
  for (const node of [sp, lp, up, cp]) assert.ok(!("config" in node), node.name);
  assert.deepEqual(sp.prometheusMetrics, {
    kind: "push",
    url: "http://gw:9091/metrics/job/pingap/instance/$HOSTNAME?interval=2m30s",
    authorization: `Basic ${btoa("u:p@ss")}`,
    intervalMs: 120_000,
    requestedMs: 150_000,
  });
  assert.deepEqual(sp.otlpExporter, {
    url: "http://127.0.0.1:4318/v1/traces",
    timeoutMs: 1000,
    maxQueueSize: 100,
    scheduledDelayMs: 5000,
    maxExportBatchSize: 512,
    exportTimeoutMs: 30_000,
  });
  assert.equal(sp.downstreamReadTimeout, 5000);
  assert.equal(sp.enabledH2, false);
  assert.equal(lp.clientMaxBodySize, 1000);
  assert.deepEqual(lp.timeouts, { readTimeout: 2000 });
  assert.equal(lp.maxRetries, 0);
  assert.equal(up.connectionTimeout, 3000);
  assert.equal(up.idleTimeout, 60_000);
  assert.equal(up.updateFrequency, 60_000);
  assert.deepEqual(up.dnsSearch, ["svc", "a.internal"]);
  assert.deepEqual([...up.circuit!.failureStatuses], [502, 503]);
  assert.deepEqual(up.backends.map((b) => [b.port, b.portSet]), [[8080, true], [80, false]]);
  assert.deepEqual([cp.tlsCert, cp.tlsKey, cp.isDefault, cp.bufferDays], ["/etc/c.crt", "/etc/c.key", true, 0]);
  // A key per item, for the reload report: same config, same key; a change, another.
  const again = compileText(CONFIG).plan!;
  assert.equal(again.servers[0]!.key, sp.key);
  const changed = compileText(CONFIG.replace('read_timeout = "2s"', 'read_timeout = "3s"')).plan!;
  assert.notEqual(changed.locations[0]!.key, lp.key);
  assert.equal(changed.servers[0]!.key, sp.key);
});

Deno.test("a client_max_body_size of 0 is no limit", () => {
  const { plan } = compileText('[locations.l]\nclient_max_body_size = "0b"\n');
  assert.equal(plan!.locations[0]!.clientMaxBodySize, undefined);
});

Deno.test("a push URL or an OTLP endpoint the runtime could not use is an error at its key, with a hint", () => {
  const server = (key: string, value: string) =>
    compileText(`[servers.s]\naddr = "127.0.0.1:6188"\n${key} = "${value}"\n`).diagnostics;
  const cases: [string, string, RegExp][] = [
    ["prometheus_metrics", "http://[bad/x", /^Push URL "http:\/\/\[bad\/x" does not parse$/],
    ["prometheus_metrics", "ftp://gw/metrics", /^Push URL "ftp:\/\/gw\/metrics" is not http or https$/],
    ["prometheus_metrics", "http://gw:9091/m?interval=soon", /^Parameter interval: /],
    ["otlp_exporter", "http://[bad:4318", /^OTLP endpoint "http:\/\/\[bad:4318" does not parse$/],
    ["otlp_exporter", "grpc://collector:4317", /is not http or https$/],
    ["otlp_exporter", "http://c:4318?max_queue_size=0", /^Parameter max_queue_size: "0" is not a positive integer$/],
    ["otlp_exporter", "http://c:4318?max_export_batch_size=lots", /^Parameter max_export_batch_size: "lots" /],
  ];
  for (const [key, value, message] of cases) {
    const [d, ...rest] = errors(server(key, value));
    assert.ok(d, `${key} = ${value}: no error`);
    assert.deepEqual(rest, [], value);
    assert.equal(d.code, "invalid-value", value);
    assert.equal(formatPath(d.path), `servers.s.${key}`);
    assert.equal(d.line, 3, value);
    assert.match(d.message, message);
    assert.ok((d.hint ?? "").length > 10, `${value}: a hint`);
  }
  // Good values pass: a pull path, a push URL with $HOSTNAME in the host, an endpoint without a scheme.
  assert.deepEqual(errors(server("prometheus_metrics", "/metrics")), []);
  assert.deepEqual(errors(server("prometheus_metrics", "https://$HOSTNAME:9091/m")), []);
  assert.deepEqual(errors(server("otlp_exporter", "collector:4318")), []);
});

Deno.test("an ACME dns-01 provider without its dns_service_url is an error at the certificate", () => {
  const cert = (extra: string) =>
    compileText(`[certificates.c]\ndomains = "a.example.com"\nacme = "lets_encrypt"\ndns_challenge = true\n${extra}`)
      .diagnostics;
  const [d, ...rest] = errors(cert('dns_provider = "cloudflare"\n'));
  assert.deepEqual(rest, []);
  assert.equal(formatPath(d!.path), "certificates.c.dns_service_url");
  assert.equal(d!.code, "missing-key");
  assert.deepEqual(
    errors(cert('dns_provider = "cloudflare"\ndns_service_url = "https://api.cloudflare.com?token=T"\n')),
    [],
  );
  assert.deepEqual(errors(cert('dns_provider = "manual"\n')), []);
  assert.deepEqual(errors(cert("")), []);
});

Deno.test("a webhook that is no http(s) URL is an error at basic.webhook", () => {
  for (const value of ["hooks.example.com/x", "http://[bad", "mailto:ops@example.com"]) {
    const [d, ...rest] = errors(compileText(`[basic]\nwebhook = "${value}"\n`).diagnostics);
    assert.deepEqual(rest, [], value);
    assert.equal(formatPath(d!.path), "basic.webhook", value);
    assert.match(d!.message, /is not an http\(s\) URL$/);
  }
  assert.deepEqual(errors(compileText('[basic]\nwebhook = "https://hooks.example.com/x?key=1"\n').diagnostics), []);
  assert.deepEqual(errors(compileText('[basic]\nwebhook = ""\n').diagnostics), []);
  // Without a resolver a reference stays as written; with one, what it names is checked.
  assert.deepEqual(errors(compileText('[basic]\nwebhook = "$ENV:HOOK"\n').diagnostics), []);
  const resolved = compileSources([{ file: "a.toml", text: '[basic]\nwebhook = "$ENV:HOOK"\n' }], {
    resolveRefs: () => ({ ok: true, value: "not a url" }),
  });
  assert.equal(formatPath(errors(resolved.diagnostics)[0]!.path), "basic.webhook");
});
