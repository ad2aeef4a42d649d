/**
 * `access_log` values: presets, file targets with their parameters, and the
 * errors for unknown tags, context keys and parameters.
 *
 * @module
 */
import assert from "node:assert/strict";
import { accessLog, CONTEXT_KEYS, UNAPPLIED_CONTEXT_KEYS } from "./access_log.ts";

Deno.test("accessLog() expands presets and keeps literal text between tags", () => {
  const r = accessLog("combined");
  assert.ok(r.ok);
  assert.equal(r.value.file, undefined);
  assert.equal(r.value.format, '{remote} "{method} {uri} {proto}" {status} {size_human} "{referer}" "{user_agent}"');
  assert.deepEqual(r.value.parts.slice(0, 3), [{ tag: "remote" }, ' "', { tag: "method" }]);
});

Deno.test("accessLog() reads a file target with rolling, channel_buffer and flush_timeout", () => {
  const r = accessLog("/var/log/a.log?rolling=hourly&channel_buffer=50&flush_timeout=2s {method} {~sid} {:location}");
  assert.ok(r.ok);
  assert.deepEqual(r.value.file, { path: "/var/log/a.log", rolling: "hourly", channelBuffer: 50, flushTimeout: 2000 });
  assert.deepEqual(r.value.parts, [{ tag: "method" }, " ", { cookie: "sid" }, " ", { ctx: "location" }]);
  const d = accessLog("/var/log/a.log tiny");
  assert.ok(d.ok);
  assert.deepEqual(d.value.file, {
    path: "/var/log/a.log",
    rolling: "daily",
    channelBuffer: 1000,
    flushTimeout: 10_000,
  });
});

Deno.test("accessLog() keeps header names lower-case and env names as written", () => {
  const r = accessLog("{>X-Custom} {<X-Origin} {$HOME}");
  assert.ok(r.ok);
  assert.deepEqual(r.value.parts, [{ requestHeader: "x-custom" }, " ", { responseHeader: "x-origin" }, " ", {
    env: "HOME",
  }]);
});

Deno.test("accessLog() rejects unknown tags, context keys and file parameters, with hints", () => {
  const tag = accessLog("{methd}");
  assert.ok(!tag.ok && /Unknown access-log tag "\{methd\}"/.test(tag.message));
  const key = accessLog("{:upstream_adr}");
  assert.ok(!key.ok && /upstream_addr/.test(key.hint ?? ""), JSON.stringify(key));
  const rolling = accessLog("/l/a.log?rolling=weekly tiny");
  assert.ok(!rolling.ok && /Unknown rolling "weekly"/.test(rolling.message));
  const buffer = accessLog("/l/a.log?channel_buffer=0 tiny");
  assert.ok(!buffer.ok && /channel_buffer/.test(buffer.message));
});

Deno.test("Pingap 0.16's further context keys are accepted (check warns that they print nothing)", () => {
  assert.equal(Object.keys(UNAPPLIED_CONTEXT_KEYS).length, 2);
  const r = accessLog("{:tls_client_subject} {:upstream_connect_offload_wait_time_human} {:ja4}");
  assert.ok(r.ok, JSON.stringify(r));
  // `{:ja4}` has a digit, outside the tag syntax: text.
  assert.deepEqual(r.value.parts, [{ ctx: "tls_client_subject" }, " ", {
    ctx: "upstream_connect_offload_wait_time_human",
  }, " {:ja4}"]);
});

Deno.test("CONTEXT_KEYS are Pingap's 35 and the 4 client-certificate keys of 0.16", () => {
  assert.equal(CONTEXT_KEYS.length, 39);
  assert.equal(new Set(CONTEXT_KEYS).size, 39);
  for (const k of ["tls_client_subject", "tls_client_fingerprint", "tls_client_serial", "tls_client_verified"]) {
    assert.ok(CONTEXT_KEYS.includes(k) && !Object.hasOwn(UNAPPLIED_CONTEXT_KEYS, k), k);
  }
});
