import assert from "node:assert/strict";
import { createH2Client } from "./client.ts";
import { backendAt, get, options, text } from "../_test_utils.ts";
import { startRawH2Origin } from "../../../tests/_support/raw_h2_origin.ts";
import { DATA, END_HEADERS, END_STREAM, frame, HEADERS } from "../../listen/h2/frames.ts";
import { literalBlock } from "../../listen/h2/_raw_client.ts";

const encoder = new TextEncoder();

Deno.test("h2 client: a body that comes with its head is answered whole, trailers too; a later one streams", async () => {
  const origin = startRawH2Origin({
    onStream: async (c, req) => {
      const path = req.fields[req.fields.indexOf(":path") + 1];
      const head = frame(HEADERS, END_HEADERS, req.id, literalBlock([":status", "200"]));
      if (path === "/whole") {
        // Head, body and trailers in one write: one read on the client's side.
        await c.write(
          head,
          frame(DATA, 0, req.id, encoder.encode("all at once")),
          frame(HEADERS, END_HEADERS | END_STREAM, req.id, literalBlock(["grpc-status", "0"])),
        );
        return;
      }
      await c.write(head);
      await new Promise((r) => setTimeout(r, 30));
      await c.write(frame(DATA, END_STREAM, req.id, encoder.encode("later")));
    },
  });
  const client = createH2Client(options(), 10);
  try {
    const backend = backendAt(origin.port);
    const whole = await client.request(backend, get("/whole"));
    assert.equal(new TextDecoder().decode(whole.whole as Uint8Array), "all at once");
    assert.equal((await whole.trailers)?.get("grpc-status"), "0");
    assert.equal(await text(whole.body), "all at once", "the stream is made when asked for");
    const later = await client.request(backend, get("/later"));
    assert.equal(later.whole, undefined);
    assert.equal(await text(later.body), "later");
  } finally {
    client.close();
    await origin.close();
  }
});
