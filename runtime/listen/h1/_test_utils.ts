/**
 * A raw HTTP/1.1 test client for the front end's tests: exact bytes on one connection, a response parsed as it came
 * off the wire (fields in their order and case, body de-chunked).
 *
 * @module
 */
import assert from "node:assert/strict";

export const enc: TextEncoder = new TextEncoder();
export const dec: TextDecoder = new TextDecoder();

/** Bytes read or sent. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** How long a test client waits at most before it gives up (closes its socket, so the test fails). */
export const CLIENT_DEADLINE = 20_000;

/** A response as it came off the wire. */
export interface WireResponse {
  readonly status: number;
  readonly reason: string;
  /** Fields in their order and case. */
  readonly fields: readonly (readonly [string, string])[];
  /** The head, final CRLFCRLF included. */
  readonly head: string;
  /** The body, de-chunked. */
  readonly body: Bytes;
  /** The text of the body. */
  readonly text: string;
}

/** The value of the one field `name` (any case); undefined when absent, an assertion failure when repeated. */
export function field(res: WireResponse, name: string): string | undefined {
  const found = res.fields.filter(([n]) => n.toLowerCase() === name);
  assert.ok(found.length <= 1, `${name} repeated in ${JSON.stringify(res.head)}`);
  return found[0]?.[1];
}

/** `a` then `b`. */
export function concat(a: Uint8Array, b: Uint8Array): Bytes {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** A raw HTTP/1.1 client on one connection. */
export class Client {
  #buf: Bytes = new Uint8Array(0);
  readonly #timer: ReturnType<typeof setTimeout>;
  #closed = false;

  private constructor(readonly conn: Deno.TcpConn) {
    this.#timer = setTimeout(() => this.close(), CLIENT_DEADLINE);
  }

  static async open(addr: Deno.NetAddr): Promise<Client> {
    const conn = await Deno.connect({ hostname: addr.hostname, port: addr.port });
    conn.setNoDelay(true);
    return new Client(conn);
  }

  /** The client's own port, as the server sees it. */
  get port(): number {
    return (this.conn.localAddr as Deno.NetAddr).port;
  }

  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    let w = 0;
    while (w < bytes.byteLength) w += await this.conn.write(bytes.subarray(w));
  }

  /** Reads more; false at the end of the connection. */
  async #more(): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    this.#buf = concat(this.#buf, chunk.subarray(0, n));
    return true;
  }

  async #take(n: number): Promise<Bytes> {
    while (this.#buf.byteLength < n) {
      if (!await this.#more()) throw new Error(`EOF with ${this.#buf.byteLength} of ${n} bytes`);
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.findIndex((b, k) => b === 10 && this.#buf[k - 1] === 13);
      if (i >= 0) return dec.decode(await this.#take(i + 1)).slice(0, -2);
      if (!await this.#more()) throw new Error(`EOF in a line: ${JSON.stringify(dec.decode(this.#buf))}`);
    }
  }

  /** Reads one response; `head` for the answer to a HEAD request. */
  async response(options: { head?: boolean } = {}): Promise<WireResponse> {
    const statusLine = await this.#line();
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
    assert.ok(m, `status line ${JSON.stringify(statusLine)}`);
    const fields: [string, string][] = [];
    let head = `${statusLine}\r\n`;
    for (;;) {
      const line = await this.#line();
      head += `${line}\r\n`;
      if (line === "") break;
      const colon = line.indexOf(":");
      fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
    const status = Number(m[1]);
    const res = { status, reason: m[2]!, fields, head, body: new Uint8Array(0), text: "" };
    const get = (name: string) => field(res, name);
    let body: Bytes = new Uint8Array(0);
    if (options.head || status < 200 || status === 204 || status === 304) {
      // no body
    } else if (get("transfer-encoding") !== undefined) {
      assert.equal(get("transfer-encoding"), "chunked");
      for (;;) {
        const size = parseInt(await this.#line(), 16);
        if (size === 0) break;
        body = concat(body, await this.#take(size));
        assert.equal(await this.#line(), "");
      }
      assert.equal(await this.#line(), "", "no trailers");
    } else if (get("content-length") !== undefined) body = await this.#take(Number(get("content-length")));
    else body = await this.rest();
    return { ...res, body, text: dec.decode(body) };
  }

  /** Everything up to the end of the connection. */
  async rest(): Promise<Bytes> {
    while (await this.#more());
    const out = this.#buf;
    this.#buf = new Uint8Array(0);
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}
