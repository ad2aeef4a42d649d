/**
 * The engine's entry for h2c by upgrade ({@linkcode H2Engine.serveUpgraded}), over a real socket with a raw client:
 * our SETTINGS go first, the client's `HTTP2-Settings` are applied without an ACK (a 10-byte window holds stream 1's
 * answer at 10 bytes until the client opens it), the upgrade request is answered on stream 1 before the client's
 * preface came, then the preface is read and the connection goes on as any h2c one (stream 3).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createH2Engine, type H2Engine, type H2Request } from "./engine.ts";
import { responseWith } from "../../http/response_build.ts";
import { headersFrame, RawClient, requestFields } from "./_raw_client.ts";
import {
  ACK,
  DATA,
  frame,
  HEADERS,
  PREFACE,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  settingsPayload,
} from "./frames.ts";

const dec = new TextDecoder();

Deno.test("h2 engine: serveUpgraded answers the upgrade request on stream 1 with the client's HTTP2-Settings applied", async () => {
  const seen: H2Request[] = [];
  const engine: H2Engine = createH2Engine({ authority: () => "a.test" }, (req) => {
    seen.push(req);
    return responseWith(`hello ${req.target}!`, { status: 200 });
  });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const c = await l.accept();
    const peer = c.remoteAddr as Deno.NetAddr;
    const head = [":method", "GET", ":scheme", "http", ":path", "/upgrade", "host", "a.test", "accept", "*/*"];
    // The client's HTTP2-Settings: INITIAL_WINDOW_SIZE 10.
    const settings = settingsPayload([SETTINGS_INITIAL_WINDOW_SIZE, 10]);
    await engine.serveUpgraded(c, new Uint8Array(0), { hostname: peer.hostname, port: peer.port }, head, settings);
  })();
  const client = await RawClient.open((l.addr as Deno.NetAddr).port, false);
  try {
    // Before the client's preface: our SETTINGS, then stream 1's answer, held at the 10 bytes of its window.
    // (Read one by one: `until` would acknowledge our SETTINGS before the client's preface.)
    const first = [];
    for (let f = await client.next(); f !== null; f = await client.next()) {
      first.push(f);
      if (f.type === DATA) break;
    }
    assert.equal(first[0]?.type, SETTINGS, "our SETTINGS first");
    assert.equal(first[0]!.flags & ACK, 0);
    assert.ok(!first.some((f) => f.type === SETTINGS && (f.flags & ACK) !== 0), "the 101 acknowledged them: no ACK");
    const h = first.find((f) => f.type === HEADERS)!;
    assert.equal(h.stream, 1);
    assert.deepEqual(client.fields(h).slice(0, 2), [":status", "200"]);
    const d = first.at(-1)!;
    assert.equal(d.stream, 1);
    assert.equal(dec.decode(d.payload), "hello /upg", "10 bytes at most: the client's window");
    assert.equal(seen[0]?.version, "HTTP/2.0");
    assert.equal(seen[0]?.method, "GET");
    assert.equal(seen[0]?.host, "a.test");
    // The preface, its SETTINGS opening the windows: the rest comes; a next request goes on stream 3.
    await client.send(
      PREFACE,
      frame(SETTINGS, 0, 0, settingsPayload([SETTINGS_INITIAL_WINDOW_SIZE, 65535])),
      headersFrame(3, requestFields("/next")),
    );
    const ended = new Set<number>();
    const rest = await client.until((f) => {
      if (f.type === DATA && (f.flags & 1) !== 0) ended.add(f.stream);
      return ended.size === 2;
    });
    const body1 = rest.filter((f) => f.type === DATA && f.stream === 1).map((f) => dec.decode(f.payload)).join("");
    assert.equal(body1, "rade!");
    const body3 = rest.filter((f) => f.type === DATA && f.stream === 3).map((f) => dec.decode(f.payload)).join("");
    assert.equal(body3, "hello /next!");
    assert.ok(rest.some((f) => f.type === SETTINGS && (f.flags & ACK) !== 0), "the preface's SETTINGS acknowledged");
  } finally {
    client.close();
    l.close();
    await served;
    await engine.shutdown(100);
  }
});

Deno.test("h2 engine: an upgrade request larger than SETTINGS_MAX_HEADER_LIST_SIZE gets 431 on stream 1", async () => {
  let called = 0;
  const engine = createH2Engine({ authority: () => "a.test", settings: { maxHeaderListSize: 200 } }, () => {
    called++;
    return responseWith("no", { status: 200 });
  });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const c = await l.accept();
    const head = [":method", "GET", ":scheme", "http", ":path", "/", "host", "a.test", "x-big", "x".repeat(300)];
    await engine.serveUpgraded(c, new Uint8Array(0), { hostname: "127.0.0.1", port: 1 }, head, new Uint8Array(0));
  })();
  const client = await RawClient.open((l.addr as Deno.NetAddr).port, false);
  try {
    let h;
    for (let f = await client.next(); f !== null; f = await client.next()) {
      if (f.type === HEADERS) {
        h = f;
        break;
      }
    }
    assert.equal(h?.stream, 1);
    assert.deepEqual(client.fields(h!).slice(0, 2), [":status", "431"]);
    assert.equal(called, 0);
  } finally {
    client.close();
    l.close();
    await served;
    await engine.shutdown(100);
  }
});
