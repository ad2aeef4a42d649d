/**
 * Access-log targets and their filter parameters as `check` sees them: Pingap's errors at the `access_log` key (with
 * line and hint), the standard-stream targets, and a warning for every parameter nothing reads.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, type Diagnostic } from "../mod.ts";
import { accessLog } from "./access_log.ts";
import { logTarget } from "./log_target.ts";

function check(accessLogValue: string): { diagnostics: readonly Diagnostic[]; ok: boolean } {
  const text = `[servers.s]\naddr = "127.0.0.1:6188"\naccess_log = ${JSON.stringify(accessLogValue)}\n`;
  const { plan, diagnostics } = compileSources([{ file: "p.toml", text }]);
  return { diagnostics, ok: plan !== undefined };
}

Deno.test("filter parameters with Pingap's messages, as errors at access_log (file, line, key path, hint)", () => {
  const cases: [string, RegExp][] = [
    ["a.log?sample=2 tiny", /^Invalid access log a\.log\?sample=2: sample should be a share, 0 to 1$/],
    ["a.log?sample=-0.1 tiny", /^Invalid access log a\.log\?sample=-0\.1: sample should be a share, 0 to 1$/],
    ["a.log?sample=half tiny", /^Invalid access log a\.log\?sample=half: sample should be a share/],
    [
      "a.log?min_status=99 tiny",
      /^Invalid access log a\.log\?min_status=99: min_status should be a status, 100 to 599$/,
    ],
    ["a.log?min_status=abc tiny", /^Invalid access log a\.log\?min_status=abc: min_status should be a status/],
    ["stdout?min_latency=soon tiny", /^Invalid access log stdout\?min_latency=soon: min_latency should be/],
    ["a.log?skip=( tiny", /^Invalid access log a\.log\?skip=\(: skip is no regex: /],
  ];
  for (const [value, message] of cases) {
    const { diagnostics, ok } = check(value);
    assert.ok(!ok, value);
    const d = diagnostics.find((x) => x.severity === "error");
    assert.ok(d, value);
    assert.match(d.message, message, value);
    assert.deepEqual([d.file, d.line, d.path], ["p.toml", 3, ["servers", "s", "access_log"]], value);
    assert.ok(d.hint && d.hint.length > 0, value);
  }
});

Deno.test("filters: undefined when every request is logged; the conditions otherwise", () => {
  for (
    const value of ["/l/a.log tiny", "/l/a.log?sample=1 tiny", "/l/a.log?skip= tiny", "a?min_status=500&sample=1 tiny"]
  ) {
    const r = accessLog(value);
    assert.ok(r.ok, value);
    assert.equal(r.value.filter, undefined, value);
  }
  const r = accessLog(
    "/l/a.log?skip=%5E%2Fstatic%2F.%2B%5C.(css%7Cjs)%24&min_status=500&min_latency=1s&sample=0.1 tiny",
  );
  assert.ok(r.ok);
  const f = r.value.filter!;
  assert.deepEqual([f.minStatus, f.minLatency, f.sample], [500, 1000, 0.1]);
  assert.ok(f.skip!.test("/static/app.js") && !f.skip!.test("/static/app.png"));
  // With a condition and no sample only the matching requests: still a filter.
  const m = accessLog("a?min_status=400 tiny");
  assert.ok(m.ok);
  assert.deepEqual(m.value.filter, { minStatus: 400 });
});

Deno.test("targets: stdout, /dev/stdout, stderr, /dev/stderr with parameters; stdout.log is a file (vector 156)", () => {
  const targets = [["stdout", "stdout"], ["/dev/stdout", "stdout"], ["stderr", "stderr"], ["/dev/stderr", "stderr"]];
  for (const [name, stream] of targets as [string, string][]) {
    const r = accessLog(`${name}?sample=0.5&channel_buffer=10 json`);
    assert.ok(r.ok, name);
    assert.equal(r.value.file?.stream, stream, name);
    assert.equal(r.value.file?.rolling, "never", name);
    assert.equal(r.value.file?.channelBuffer, 10, name);
    assert.equal(r.value.filter?.sample, 0.5, name);
    assert.equal(r.value.json, true, name);
  }
  const file = accessLog("stdout.log combined");
  assert.ok(file.ok);
  assert.deepEqual([file.value.file?.path, file.value.file?.stream, file.value.file?.rolling], [
    "stdout.log",
    undefined,
    "daily",
  ]);
  assert.equal(logTarget("syslog://10.0.0.1?protocol=tcp").kind, "syslog");
  // Vector 156: `stdout` alone and `combinedd` log nothing; `json` is a preset.
  for (const value of ["stdout", "combinedd"]) {
    const { diagnostics, ok } = check(value);
    assert.ok(!ok, value);
    assert.match(diagnostics.find((d) => d.severity === "error")!.message, /logs nothing of the request/, value);
  }
  const stdoutAlone = check("stdout").diagnostics.find((d) => d.severity === "error")!;
  assert.match(stdoutAlone.hint ?? "", /A target needs a format after it: "stdout combined"/);
  assert.ok(check("json").ok);
  assert.ok(check("stdout json").ok);
});

Deno.test("a target parameter nothing reads is a not-applied warning naming it, never silence", () => {
  const { diagnostics, ok } = check("/tmp/x.log?min_status=500&sample=0.1&compression=gzip&min_stauts=400 combined");
  assert.ok(ok);
  const warnings = diagnostics.filter((d) => d.code === "not-applied");
  assert.deepEqual(
    warnings.map((d) => [d.severity, d.line, d.path.join("."), /"(\w+)"/.exec(d.message)?.[1]]),
    [["warning", 3, "servers.s.access_log", "compression"], ["warning", 3, "servers.s.access_log", "min_stauts"]],
  );
  // rolling means nothing to a stream or syslog.
  assert.equal(check("stdout?rolling=hourly tiny").diagnostics.filter((d) => d.code === "not-applied").length, 1);
  assert.equal(
    check("syslog://10.0.0.1?rolling=hourly tiny").diagnostics.filter((d) => d.code === "not-applied").length,
    1,
  );
  // The known ones draw nothing.
  const known =
    "/tmp/x.log?rolling=hourly&channel_buffer=5&flush_timeout=1s&skip=x&min_status=500&min_latency=1s&sample=0.1";
  assert.deepEqual(check(`${known} tiny`).diagnostics.map((d) => d.code), ["no-locations"]);
});
