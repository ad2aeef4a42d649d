/**
 * `request_id`: keeps or generates a request id (UUID v7 or nanoid).
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "./contract.ts";

const ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

/** A nanoid of `size` URL-safe characters. */
export function nanoid(size: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  let id = "";
  for (let i = 0; i < size; i++) id += ALPHABET[bytes[i]! & 63];
  return id;
}

/** A UUID v7 (time-ordered). */
export function uuidv7(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const ms = Date.now();
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The runtime half of `request_id`. */
export const requestId = runtimePlugin(PLUGIN_DEFINITIONS.requestId, (c) => {
  return {
    request(ctx) {
      const existing = ctx.req.headers.get(c.headerName);
      const id = existing || (c.algorithm === "nanoid" ? nanoid(c.size) : uuidv7());
      ctx.requestId = id;
      if (!existing) ctx.setUpstreamHeader(c.headerName, id);
      return undefined;
    },
  };
});
