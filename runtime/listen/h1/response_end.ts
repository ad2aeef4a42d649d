/**
 * Finds where `Deno.serve`'s answer to one relayed request ends, as its bytes pass to the client, so that the
 * connection can come back to the front end for the request after it (see relay.ts). Interim `1xx` answers are
 * skipped; the final answer ends after its head (a HEAD request, 204, 304), its `content-length` bytes, or its
 * chunked body. An answer that ends only when the connection does (no length, `connection: close`, an upgrade, a head
 * that is not understood) gives {@linkcode UNTIL_CLOSE}: the connection then ends with it, as before.
 *
 * @module
 */
import { BAD, ChunkedScanner, MORE } from "./chunked_scan.ts";

export { MORE };
/** The answer ends with the connection: it cannot come back to the front end. */
export const UNTIL_CLOSE = -3;

/** A response head longer than this is not looked into (`Deno.serve`'s are far smaller). */
const HEAD_MAX = 65536;

const latin1 = new TextDecoder("latin1");

/** Scans one response as it passes. */
export class ResponseEnd {
  /** The head read so far (one char a byte), while in a head. */
  #head = "";
  #inBody = false;
  /** Body bytes left (a sized body). */
  #left = 0;
  #chunked: ChunkedScanner | undefined;

  /** @param bodiless The request was HEAD: the final answer has no body, whatever its fields say. */
  constructor(readonly bodiless: boolean) {}

  /**
   * Scans `buf[from..to)`.
   *
   * @returns The index after the answer's last byte when it ends there, {@linkcode MORE}, or
   *   {@linkcode UNTIL_CLOSE}.
   */
  scan(buf: Uint8Array, from: number, to: number): number {
    let i = from;
    while (i < to) {
      if (this.#inBody) {
        if (this.#chunked !== undefined) {
          const r = this.#chunked.scan(buf, i, to);
          return r === BAD ? UNTIL_CLOSE : r;
        }
        const n = Math.min(this.#left, to - i);
        this.#left -= n;
        i += n;
        if (this.#left === 0) return i;
        continue;
      }
      const before = this.#head.length;
      this.#head += latin1.decode(buf.subarray(i, to));
      const end = this.#head.indexOf("\r\n\r\n", Math.max(0, before - 3));
      if (end < 0) {
        if (this.#head.length > HEAD_MAX) return UNTIL_CLOSE;
        return MORE;
      }
      i += end + 4 - before;
      const head = this.#head.slice(0, end);
      this.#head = "";
      const r = this.#final(head);
      if (r === MORE) continue;
      if (r === UNTIL_CLOSE) return UNTIL_CLOSE;
      if (r === 0) return i;
    }
    return MORE;
  }

  /** Reads a head: MORE for an interim answer, UNTIL_CLOSE, 0 when the answer has no body, 1 when a body follows. */
  #final(head: string): number {
    const lines = head.split("\r\n");
    const m = /^HTTP\/1\.1 (\d{3})(?: |$)/.exec(lines[0]!);
    if (m === null) return UNTIL_CLOSE;
    const status = Number(m[1]);
    if (status === 101) return UNTIL_CLOSE;
    if (status < 200) return MORE;
    let length = -1;
    let chunked = false;
    for (let k = 1; k < lines.length; k++) {
      const l = lines[k]!;
      const colon = l.indexOf(":");
      if (colon <= 0) return UNTIL_CLOSE;
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim().toLowerCase();
      if (name === "connection" && /(^|,)\s*close\s*(,|$)/.test(value)) return UNTIL_CLOSE;
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || length >= 0) return UNTIL_CLOSE;
        length = Number(value);
      } else if (name === "transfer-encoding") {
        if (value !== "chunked" || chunked) return UNTIL_CLOSE;
        chunked = true;
      }
    }
    if (this.bodiless || status === 204 || status === 304) return 0;
    if (chunked) {
      if (length >= 0) return UNTIL_CLOSE;
      this.#chunked = new ChunkedScanner();
    } else if (length > 0) this.#left = length;
    else if (length === 0) return 0;
    else return UNTIL_CLOSE;
    this.#inBody = true;
    return 1;
  }
}
