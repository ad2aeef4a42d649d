/** The close codes and reasons the WebSocket bridge passes on (`ws_close.ts`). */
import assert from "node:assert/strict";
import { closeForClient, closeForUpstream, closeReason, sendableCode } from "./ws_close.ts";

Deno.test("sendableCode(): RFC 6455's sendable codes, without the reserved ones and 1014", () => {
  const ok = [];
  for (let c = 0; c < 5100; c++) if (sendableCode(c)) ok.push(c);
  assert.equal(ok.length, 4 + 7 + 2000);
  for (const c of [0, 999, 1004, 1005, 1006, 1014, 1015, 2999, 5000, 65535]) {
    assert.equal(sendableCode(c), false, `${c}`);
  }
});

Deno.test("closeReason(): at most 123 bytes, cut at a character boundary", () => {
  assert.equal(closeReason("bye"), "bye");
  const cut = closeReason("a" + "€".repeat(60));
  assert.ok(new TextEncoder().encode(cut).length <= 123);
  assert.equal(cut, "a" + "€".repeat(40));
});

Deno.test("closeForClient(): mirrors sendable codes; a lost or oversized upstream gives 1011 or 1009", () => {
  assert.deepEqual(closeForClient(4001, "bye"), { code: 4001, reason: "bye" });
  assert.deepEqual(closeForClient(1001, "away"), { code: 1001, reason: "away" });
  assert.deepEqual(closeForClient(1005, ""), { reason: "" });
  assert.deepEqual(closeForClient(0, "", "Frame too large"), { code: 1009, reason: "upstream message over 64 MiB" });
  assert.deepEqual(closeForClient(0, "", "Unexpected EOF"), { code: 1011, reason: "upstream connection lost" });
  assert.deepEqual(closeForClient(1006, ""), { code: 1011, reason: "upstream connection lost" });
  assert.deepEqual(closeForClient(1015, ""), { code: 1011, reason: "upstream connection lost" });
});

Deno.test("closeForUpstream(): only 1000 and 3000-4999, as the WebSocket API allows", () => {
  assert.deepEqual(closeForUpstream(1000, "done"), { code: 1000, reason: "done" });
  assert.deepEqual(closeForUpstream(3001, "x"), { code: 3001, reason: "x" });
  assert.deepEqual(closeForUpstream(1001, ""), { code: 1000, reason: "client closed with 1001" });
  assert.deepEqual(closeForUpstream(1011, "oops"), { code: 1000, reason: "oops" });
  assert.deepEqual(closeForUpstream(1005, ""), { reason: "" });
  assert.deepEqual(closeForUpstream(0, "", "Frame too large"), { code: 1000, reason: "client message over 64 MiB" });
  assert.deepEqual(closeForUpstream(0, ""), { code: 1000, reason: "client connection lost" });
});
