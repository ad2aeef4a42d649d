/**
 * The h2c upgrade check (upgrade.ts) without sockets: base64url, the SETTINGS payload, the fields of stream 1.
 *
 * @module
 */
import assert from "node:assert/strict";
import { base64url, h2cUpgrade, literalBlock, type UpgradeAsk } from "./upgrade.ts";
import { HpackDecoder } from "./hpack.ts";

/** curl's `HTTP2-Settings`: MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 32 MiB, ENABLE_PUSH 0. */
const CURL = "AAMAAABkAAQCAAAAAAIAAAAA";

function ask(fields: string[], more: Partial<UpgradeAsk> = {}): UpgradeAsk {
  return { method: "GET", target: "/a?b", fields, contentLength: -1, chunked: false, http10: false, ...more };
}

const base = ["host", "a.test", "connection", "Upgrade, HTTP2-Settings", "http2-settings", CURL];

Deno.test("base64url: decodes the url alphabet, with or without padding; refuses other bytes and a bad length", () => {
  assert.deepEqual(base64url(CURL), new Uint8Array([0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0]));
  assert.deepEqual(base64url("AAQAAP__"), new Uint8Array([0, 4, 0, 0, 0xff, 0xff]));
  assert.deepEqual(base64url("-_8"), new Uint8Array([0xfb, 0xff]));
  assert.deepEqual(base64url("-_8="), new Uint8Array([0xfb, 0xff]));
  assert.deepEqual(base64url(""), new Uint8Array(0));
  assert.equal(base64url("AAQAAP//"), undefined, "standard base64 is not base64url");
  assert.equal(base64url("AAMAA"), undefined, "5 digits are no whole byte");
  assert.equal(base64url("AA MA"), undefined);
  assert.equal(base64url("AAé="), undefined);
});

Deno.test("h2cUpgrade: a proper request passes; stream 1's head keeps end-to-end fields only", () => {
  const up = h2cUpgrade(ask([...base, "accept", "*/*", "te", "trailers", "keep-alive", "5", "user-agent", "x"]));
  assert.ok(up);
  assert.equal(up.settings.byteLength, 18);
  assert.deepEqual(up.head, [
    ":method",
    "GET",
    ":scheme",
    "http",
    ":path",
    "/a?b",
    "host",
    "a.test",
    "accept",
    "*/*",
    "te",
    "trailers",
    "user-agent",
    "x",
  ]);
  // The fields `Connection` names go with it.
  const named = h2cUpgrade(ask([
    "host",
    "a.test",
    "connection",
    "upgrade, http2-settings, x-hop",
    "x-hop",
    "1",
    "http2-settings",
    "",
  ]));
  assert.ok(named, "an empty HTTP2-Settings is an empty SETTINGS frame");
  assert.deepEqual(named.head.slice(6), ["host", "a.test"]);
  // `Connection` in two field lines.
  assert.ok(
    h2cUpgrade(ask(["host", "a", "connection", "Upgrade", "connection", "HTTP2-Settings", "http2-settings", ""])),
  );
});

Deno.test("h2cUpgrade: declined when anything is off", () => {
  const no = (a: UpgradeAsk, why: string) => assert.equal(h2cUpgrade(a), undefined, why);
  no(ask(["host", "a", "connection", "Upgrade", "http2-settings", CURL]), "Connection does not name HTTP2-Settings");
  no(ask(["host", "a", "connection", "HTTP2-Settings", "http2-settings", CURL]), "Connection does not name Upgrade");
  no(ask(["host", "a", "connection", "Upgrade, HTTP2-Settings"]), "no HTTP2-Settings");
  no(ask([...base, "http2-settings", CURL]), "two HTTP2-Settings");
  no(ask(["host", "a", "connection", "Upgrade, HTTP2-Settings", "http2-settings", "AAMAAA"]), "4 bytes");
  no(ask(["host", "a", "connection", "Upgrade, HTTP2-Settings", "http2-settings", "AAIAAAAC"]), "ENABLE_PUSH 2");
  no(ask(["host", "a", "connection", "Upgrade, HTTP2-Settings", "http2-settings", "AAUAAAAA"]), "MAX_FRAME_SIZE 0");
  no(ask(["host", "a", "connection", "Upgrade, HTTP2-Settings", "http2-settings", "AASAAAAA"]), "a window of 2^31");
  no(ask(base, { contentLength: 5 }), "a body");
  no(ask(base, { chunked: true }), "a chunked body");
  no(ask(base, { http10: true }), "HTTP/1.0");
  no(ask([...base, "x-bad", " lead"]), "a value HTTP/2 refuses");
  no(ask([...base, "x-text", "caf\u00e9"]), "obs-text");
});

Deno.test("literalBlock: our HPACK decoder reads back stream 1's head, long values included", () => {
  const head = [":method", "GET", ":path", "/", "x-long", "v".repeat(127), "x-longer", "w".repeat(20000), "e", ""];
  assert.deepEqual(new HpackDecoder(4096, 1 << 20).decode(literalBlock(head)), head);
});
