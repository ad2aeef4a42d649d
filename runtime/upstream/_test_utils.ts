/**
 * Helpers shared by the upstream clients' tests (`http1_test.ts`, `h2_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startRawServer } from "../../tests/_support/raw_server.ts";
import { type Backend, type ConnectOptions, UpstreamError } from "./types.ts";
import type { HttpRequest } from "../http/message.ts";

/** Connect options for a test client: plain, verifying, a pool of 8. */
export function options(extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { tls: false, verifyCert: true, idleTimeout: 60_000, poolSize: 8, ...extra };
}

/** The backend at `host`:`port` (weight 1). */
export function backendAt(port: number, host = "127.0.0.1"): Backend {
  return { host, port, weight: 1, addr: `${host}:${port}` };
}

/** A GET of `target` with `host: origin.test`. */
export function get(target = "/", extra: Partial<HttpRequest> = {}): HttpRequest {
  return { method: "GET", target, headers: new Headers({ host: "origin.test" }), body: null, ...extra };
}

/** A body read as text ("" for none). */
export async function text(body: ReadableStream<Uint8Array> | null): Promise<string> {
  return body === null ? "" : await new Response(body).text();
}

/** Waits `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise(function wait(resolve) {
    setTimeout(resolve, ms);
  });
}

/** The UpstreamError `promise` rejects with; fails when it resolves or rejects with something else. */
export async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
}

/** Waits until `cond` holds, checking every 10 ms; fails after `ms` naming `what`. */
export async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A port nothing listens on. */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** A TCP server that writes hand-made bytes. */
export interface RawServer {
  readonly backend: Backend;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Starts a raw TCP server on a free port (tests/_support/raw_server.ts); `handler` drives each accepted connection,
 * which is closed after it. */
export function startRaw(handler: (conn: Deno.TcpConn, index: number) => Promise<void>): RawServer {
  const server = startRawServer(handler);
  return {
    backend: backendAt(server.port),
    get accepted() {
      return server.accepted();
    },
    close: server.close,
  };
}
