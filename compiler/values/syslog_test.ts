/** `syslog://` targets: Pingap's defaults, forms and error messages. */
import assert from "node:assert/strict";
import { syslogTarget } from "./syslog.ts";
import { compileSources, formatPath } from "../mod.ts";

Deno.test("syslogTarget(): defaults, remote UDP and TCP, port 514, IPv6, the local socket", () => {
  const local = syslogTarget("syslog://");
  assert.ok(local.ok);
  assert.deepEqual(local.value, {
    spec: "syslog://",
    format: "3164",
    process: "pingap",
    facility: 1,
    transport: { kind: "unix", path: "/dev/log" },
  });
  const path = syslogTarget("syslog:///run/syslog.sock?format=5424");
  assert.ok(path.ok);
  assert.deepEqual(path.value.transport, { kind: "unix", path: "/run/syslog.sock" });
  assert.equal(path.value.format, "5424");
  const udp = syslogTarget("syslog://10.0.0.1?process=access&facility=LOG_LOCAL0");
  assert.ok(udp.ok);
  assert.deepEqual(udp.value.transport, { kind: "udp", hostname: "10.0.0.1", port: 514 });
  assert.equal(udp.value.process, "access");
  assert.equal(udp.value.facility, 16);
  const tcp = syslogTarget("syslog://logs.example.com:1514?protocol=tcp&facility=daemon&channel_buffer=10");
  assert.ok(tcp.ok);
  assert.deepEqual(tcp.value.transport, { kind: "tcp", hostname: "logs.example.com", port: 1514 });
  assert.equal(tcp.value.facility, 3);
  const v6 = syslogTarget("syslog://[::1]:1514");
  assert.ok(v6.ok);
  assert.deepEqual(v6.value.transport, { kind: "udp", hostname: "::1", port: 1514 });
});

Deno.test("syslogTarget(): Pingap's errors", () => {
  const message = (spec: string) => {
    const r = syslogTarget(spec);
    assert.ok(!r.ok, spec);
    return r.message;
  };
  assert.equal(message("syslog://?format=9999"), "syslog format 9999 is invalid, expected 3164 or 5424");
  assert.equal(message("syslog://?facility=LOG_NOPE"), "syslog facility LOG_NOPE is invalid");
  assert.equal(message("syslog://127.0.0.1?protocol=quic"), "syslog protocol quic is invalid, expected udp or tcp");
  assert.equal(message("syslog://?protocol=tcp"), "syslog protocol only applies to a remote server");
  assert.match(message("syslog://10.0.0.1:99999"), /is invalid, expected host or host:port/);
});

Deno.test("check: an access_log syslog target is parsed, and a bad one is an error at the key", () => {
  const compile = (log: string) =>
    compileSources([{ file: "t.toml", text: `[servers.s]\naddr = "127.0.0.1:1"\naccess_log = "${log}"\n` }]);
  const ok = compile("syslog://127.0.0.1:1514?format=5424 combined");
  assert.equal(ok.plan?.servers[0]?.accessLog?.file?.syslog?.format, "5424");
  const bad = compile("syslog://127.0.0.1?format=9 combined").diagnostics.find((d) => d.severity === "error")!;
  assert.equal(formatPath(bad.path), "servers.s.access_log");
  assert.match(bad.message, /syslog format 9 is invalid, expected 3164 or 5424/);
});
