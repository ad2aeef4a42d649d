/**
 * Starting the proxy in the test's isolate from TOML text, and small
 * clients: `fetch` wrappers that always consume the body, and a raw
 * HTTP/1.1 exchange over `Deno.connect` (no decompression, any bytes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, formatPath, type Plan } from "../../compiler/mod.ts";
import { startProxy } from "../../runtime/lifecycle/start.ts";
import type { RunningProxy } from "../../runtime/lifecycle/serve.ts";

/** Compiles TOML text, failing the test on any error diagnostic. */
export function compileToml(text: string): Plan {
  const { plan, diagnostics } = compileSources([{ file: "test.toml", text }]);
  const errors = diagnostics.filter((d) => d.severity === "error");
  assert.equal(
    errors.length,
    0,
    `config errors:\n${errors.map((d) => `${d.line ?? "?"}: ${formatPath(d.path)}: ${d.message}`).join("\n")}`,
  );
  assert.ok(plan);
  return plan;
}

/** A proxy started by {@linkcode startTestProxy}. */
export interface TestProxy {
  readonly proxy: RunningProxy;
  /** Port of the first listener. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Access-log lines written so far. */
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * Compiles `toml` and serves it. Server addresses may use port 0; the
 * first listener's real port is returned.
 */
export async function startTestProxy(toml: string): Promise<TestProxy> {
  const plan = compileToml(toml);
  const logs: string[] = [];
  const proxy = await startProxy(plan, { log: (line) => logs.push(line) });
  const first = proxy.listening[0];
  assert.ok(first, "the proxy listens");
  return {
    proxy,
    port: first.port,
    url: `http://127.0.0.1:${first.port}`,
    logs,
    close: () => proxy.shutdown(),
  };
}

/** A fetched response with its body read. */
export interface Got {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** `fetch` that always reads the body (no leaks for the sanitizers). */
export async function get(url: string, init?: RequestInit): Promise<Got> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/** `fetch` returning the parsed JSON body (asserting the status). */
export async function getJson<T>(url: string, init?: RequestInit, status = 200): Promise<T> {
  const got = await get(url, init);
  assert.equal(got.status, status, `${url}: ${got.text}`);
  return JSON.parse(got.text) as T;
}

/** A raw HTTP/1.1 response: status line, headers and body bytes as received. */
export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; repeated ones joined by `, `. */
  readonly headers: Record<string, string>;
  /** The body as received (de-chunked when chunked). */
  readonly body: Uint8Array;
  /** Everything received. */
  readonly raw: Uint8Array;
  /** The client's local port (what the proxy sees as `$remote_port`). */
  readonly localPort: number;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLF = new TextEncoder().encode("\r\n");
const CRLFCRLF = new TextEncoder().encode("\r\n\r\n");

function dechunk(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 0;
  for (;;) {
    const eol = indexOf(data, CRLF, i);
    if (eol < 0) throw new Error("truncated chunked body");
    const size = parseInt(new TextDecoder().decode(data.subarray(i, eol)).split(";")[0]!.trim(), 16);
    if (Number.isNaN(size)) throw new Error("bad chunk size");
    if (size === 0) return concat(parts);
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}

/**
 * Sends `request` bytes on a new TCP connection and reads until the peer
 * closes (send `Connection: close`) or `timeoutMs` passes. Returns
 * undefined when nothing at all came back.
 */
export async function rawExchange(
  port: number,
  request: string | Uint8Array,
  timeoutMs = 5000,
): Promise<RawResponse | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const localPort = conn.localAddr.port;
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }, timeoutMs);
  try {
    const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
    await conn.write(bytes).catch(() => 0);
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break;
      }
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer or the peer.
    }
  }
  const raw = concat(chunks);
  if (raw.length === 0) return undefined;
  const end = indexOf(raw, CRLFCRLF);
  assert.ok(end > 0, `no header end in ${JSON.stringify(new TextDecoder().decode(raw.subarray(0, 200)))}`);
  const lines = new TextDecoder().decode(raw.subarray(0, end)).split("\r\n");
  const status = Number(lines[0]!.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const k = line.slice(0, colon).trim().toLowerCase();
    const v = line.slice(colon + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  let body = raw.subarray(end + 4);
  if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) body = dechunk(body);
  else if (headers["content-length"] !== undefined) body = body.subarray(0, Number(headers["content-length"]));
  return { status, headers, body, raw, localPort };
}

/**
 * A raw HTTP/1.1 request with exactly these headers (fetch cannot set
 * `Host`); `Connection: close` is added. Fails when nothing comes back.
 */
export async function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined) head += `content-length: ${new TextEncoder().encode(body).length}\r\n`;
  const res = await rawExchange(port, `${head}connection: close\r\n\r\n${body ?? ""}`);
  assert.ok(res, `no response to ${method} ${target}`);
  return res;
}

/** The body of a raw response parsed as JSON. */
export function rawJson<T>(res: RawResponse): T {
  return JSON.parse(new TextDecoder().decode(res.body)) as T;
}
