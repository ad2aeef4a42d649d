/**
 * The parts of a `mirror` copy: its fields and its body, taken from the request without slowing it.
 *
 * @module
 */
import { isHopByHop } from "../http/headers_copy.ts";

/** What the copy says about the client. */
export interface MirrorFacts {
  /** The copy's Host. */
  readonly host: string;
  /** `http` or `https`. */
  readonly proto: string;
  /** The client IP. */
  readonly clientIp: string;
}

/** A field the copy never carries from the request: framing, `Expect`, the client's forwarding claims, Host. */
function dropped(name: string): boolean {
  return isHopByHop(name) || name === "content-length" || name === "expect" || name === "host" ||
    name === "x-real-ip" || name.startsWith("x-forwarded-");
}

/**
 * The copy's fields: the request's (`[name, value, …]`, lower-case names) without hop-by-hop ones (also those its
 * `Connection` names), framing, `Expect`, `Host` and the client's `X-Forwarded-*`/`X-Real-IP`; then `Host`,
 * `X-Forwarded-Proto`, `X-Forwarded-For` and `X-Real-IP` (the client IP) and `X-Pingap-Mirror: 1`.
 *
 * @param fields The request's fields.
 * @param facts What the copy says about the client.
 * @returns The copy's headers.
 */
export function mirrorHeaders(fields: readonly string[], facts: MirrorFacts): Headers {
  const nominated = new Set<string>();
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === "connection") {
      for (const n of fields[i + 1]!.split(",")) nominated.add(n.trim().toLowerCase());
    }
  }
  const headers = new Headers();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (dropped(name) || nominated.has(name)) continue;
    headers.append(name, fields[i + 1]!);
  }
  headers.set("host", facts.host);
  headers.set("x-forwarded-proto", facts.proto);
  headers.set("x-forwarded-for", facts.clientIp);
  headers.set("x-real-ip", facts.clientIp);
  headers.set("x-pingap-mirror", "1");
  return headers;
}

/**
 * Passes `body` on unchanged while keeping a copy of up to `max` bytes; when the body has ended within `max`, calls
 * `done` with the copy. A body over `max`, or one that fails or is cancelled, is not copied (what was kept is dropped
 * at once, so no more than `max` bytes are ever held).
 *
 * @param body The request body on its way upstream.
 * @param max The largest body copied.
 * @param done Gets the whole copy.
 * @returns The body to send upstream.
 */
export function teeBounded(
  body: ReadableStream<Uint8Array>,
  max: number,
  done: (bytes: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  let kept: Uint8Array[] | undefined = [];
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (kept !== undefined) {
          size += chunk.length;
          // A copy: the upstream client may reuse the chunk's buffer once it has written it.
          if (size <= max) kept.push(chunk.slice());
          else kept = undefined;
        }
        controller.enqueue(chunk);
      },
      flush() {
        if (kept === undefined) return;
        const bytes = new Uint8Array(size);
        let at = 0;
        for (const part of kept) {
          bytes.set(part, at);
          at += part.length;
        }
        kept = undefined;
        done(bytes);
      },
    }),
  );
}
