/**
 * The corpus's detectors can fail: the recording origin, sent a smuggled
 * request, bytes that are no request, or a cut body directly (no proxy in
 * between, so nothing fixes them), makes the judge report each.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { WireCase } from "./case.ts";
import { judge } from "./run_case.ts";
import { startRecordingOrigin } from "./recording_origin.ts";
import { exchange } from "./wire.ts";

const CASE: WireCase = {
  kind: "wire",
  group: "framing",
  name: "judge-self-test",
  parts: [],
  expect: 200,
  originBody: "hello",
};

Deno.test("hostile judge: a smuggled request, junk and a wrong body at the origin are failures", async () => {
  const origin = startRecordingOrigin();
  try {
    // What a proxy that dropped the framing would send: a head without length, then the body as the next request.
    const smuggle = "POST /c/0001/ HTTP/1.1\r\nHost: h\r\n\r\nGET /c/0001/smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
    const r1 = await exchange(origin.port, [smuggle], { timeoutMs: 2000, linger: 200 });
    const j1 = judge(CASE, 1, r1, origin.forCase(1));
    assert.ok(j1.failures.some((f) => f.includes("smuggled request")), j1.failures.join("; "));
    assert.ok(j1.failures.some((f) => f.includes("the body")), j1.failures.join("; "));

    // A desynchronised stream: bytes that are no request, tagged by the case.
    const r2 = await exchange(origin.port, [
      "GET /c/0002/ HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok\x00\x01 /c/0002/ junk\r\n\r\n",
    ], {
      timeoutMs: 2000,
      linger: 200,
    });
    const j2 = judge({ ...CASE, originBody: "ok" }, 2, r2, origin.forCase(2));
    assert.ok(j2.failures.some((f) => f.includes("no request")), j2.failures.join("; "));

    // Two requests from one: the default count rule catches it.
    const two = "GET /c/0003/a HTTP/1.1\r\nHost: h\r\n\r\nGET /c/0003/b HTTP/1.1\r\nHost: h\r\n\r\n";
    const r3 = await exchange(origin.port, [two], { timeoutMs: 2000, responses: 2 });
    const j3 = judge({ ...CASE, originBody: "" }, 3, r3, origin.forCase(3));
    assert.ok(j3.failures.some((f) => f.includes("received 2 requests")), j3.failures.join("; "));

    // A body the origin cut: the client sees it truncated, not complete.
    const r4 = await exchange(origin.port, ["GET /c/0004/fault/reset-body-cl HTTP/1.1\r\nHost: h\r\n\r\n"], {
      timeoutMs: 2000,
    });
    assert.equal(r4.responses[0]?.truncated, true);
  } finally {
    await origin.close();
  }
});
