import assert from "node:assert/strict";
import { ClientWatch, WireRequest } from "../listen/h1/request.ts";
import { createHttp1Client } from "../upstream/http1/client.ts";
import { options, startRaw, text } from "../upstream/_test_utils.ts";
import type { HttpRequest } from "./message.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A backend that records each request head it reads and answers `ok`. */
function recordingBackend() {
  const heads: string[] = [];
  const server = startRaw(async (conn) => {
    const buf = new Uint8Array(4096);
    let got = "";
    while (!got.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return;
      got += dec.decode(buf.subarray(0, n));
    }
    heads.push(got);
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"));
  });
  return { server, heads };
}

/** A request as the HTTP/1.1 front end reads it: fields as sent, and the head's bytes. */
function wireRequest(): WireRequest {
  const head = "GET /a?b=1 HTTP/1.1\r\nHost: origin.test\r\nX-Case: Kept\r\n\r\n";
  return new WireRequest(
    "GET",
    "/a?b=1",
    "origin.test",
    ["host", "origin.test", "x-case", "Kept"],
    null,
    new ClientWatch(),
    enc.encode(head),
  );
}

Deno.test("one request type: the front end's request goes to an upstream client as it is, its head as its bytes", async () => {
  const { server, heads } = recordingBackend();
  const client = createHttp1Client(options());
  try {
    const req: HttpRequest = wireRequest();
    const res = await client.request(server.backend, req);
    assert.equal(res.status, 200);
    assert.equal(await text(res.body), "ok");
    assert.equal(heads[0], "GET /a?b=1 HTTP/1.1\r\nHost: origin.test\r\nX-Case: Kept\r\n\r\n", "the very bytes");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("one request type: once its Headers are made and changed, the head's bytes and raw fields no longer go", async () => {
  const { server, heads } = recordingBackend();
  const client = createHttp1Client(options());
  try {
    const req = wireRequest();
    req.headers.set("x-added", "1");
    assert.equal(req.raw, undefined);
    assert.equal(req.fields, undefined);
    assert.equal(req.header("x-case"), "Kept", "header() still reads the fields as sent");
    const res = await client.request(server.backend, req);
    assert.equal(await text(res.body), "ok");
    assert.match(heads[0]!, /\r\nx-added: 1\r\n/i);
  } finally {
    client.close();
    await server.close();
  }
});
