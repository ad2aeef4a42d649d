/**
 * An upgrade spliced as bytes: after the upstream's `101 Switching Protocols`, the client's connection and the
 * upstream's are joined byte for byte (WebSocket frames, masks, extensions and close codes, or any other protocol,
 * untouched). The client ending its side half-closes the upstream's; the upstream ending (or either side failing) closes
 * both. No error escapes.
 *
 * @module
 */
import type { HttpResponse } from "../../http/message.ts";
import { isHopByHop } from "../../http/headers_copy.ts";
import type { ByteStream } from "../byte_stream.ts";

const encoder = new TextEncoder();

/** The 101 head for the client: the upstream's fields but hop-by-hop ones, then `connection: upgrade` and `upgrade`. */
export function switchingHead(res: HttpResponse, requested: string): Uint8Array {
  let text = `HTTP/1.1 101 ${res.statusText || "Switching Protocols"}\r\n`;
  let upgrade: string | null = null;
  const add = (value: string, name: string) => {
    const lower = name.toLowerCase();
    if (lower === "upgrade") upgrade = value;
    if (isHopByHop(lower) || lower === "content-length") return;
    text += `${name}: ${value}\r\n`;
  };
  const fields = res.fields;
  if (fields !== undefined) { for (let i = 0; i < fields.length; i += 2) add(fields[i + 1]!, fields[i]!); }
  else res.headers.forEach(add);
  text += `connection: upgrade\r\nupgrade: ${upgrade ?? requested}\r\n\r\n`;
  return encoder.encode(text);
}

/**
 * Splices `client` (whose bytes after the request head, `rest`, go first) to the upgraded upstream connection until
 * both ended. Resolves once both directions are done; `client` is closed then.
 *
 * A side that stops reading stalls the write to it; its time limit ends the splice: `write` (the front end's, which
 * the listener's sweep cuts after `downstream_write_timeout`) for the client, the upstream's `write_timeout` for the
 * upstream (its writable fails then). Either failure closes both sides, so that a client that left while its bytes
 * waited for an upstream that never reads is not held forever.
 */
export async function spliceUpgrade(
  client: ByteStream,
  upstream: NonNullable<HttpResponse["upgrade"]>,
  rest: Uint8Array,
  write: (bytes: Uint8Array) => Promise<void> = (bytes) => writeAll(client, bytes),
): Promise<void> {
  const writer = upstream.writable.getWriter();
  const reader = upstream.readable.getReader();
  let cut = false;
  const cutBoth = () => {
    if (cut) return;
    cut = true;
    try {
      client.close();
    } catch { /* closed */ }
    reader.cancel().catch(() => {});
    writer.abort().catch(() => {});
  };
  const toUpstream = async () => {
    try {
      if (rest.byteLength > 0) await writer.write(rest);
      const buf = new Uint8Array(16384);
      for (;;) {
        const n = await client.read(buf);
        if (n === null) break;
        // The write ends before the next read reuses the buffer.
        await writer.write(buf.subarray(0, n));
      }
      // The client ended its side: so does the upstream's (half-close); its answer may still come.
      await writer.close();
    } catch {
      cutBoth();
    }
  };
  const toClient = async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        await write(r.value);
      }
    } catch { /* the client or the upstream failed: both close below */ }
    // The upstream ended (or failed): the client's connection ends too.
    cutBoth();
  };
  await Promise.all([toUpstream(), toClient()]);
}

async function writeAll(conn: ByteStream, bytes: Uint8Array): Promise<void> {
  let w = 0;
  while (w < bytes.byteLength) w += await conn.write(w === 0 ? bytes : bytes.subarray(w));
}
