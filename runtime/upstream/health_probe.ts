/**
 * One health check of one backend, by the check's scheme (inventory §3.3): `tcp` connects and closes; `http`/`https`
 * sends `GET <path>` with `Host: <host>` and wants a 200 (body drained, TLS not verified, SNI = host); `grpc` calls
 * `grpc.health.v1.Health/Check` over HTTP/2 and wants SERVING with grpc-status 0. The schedule around it is health.ts.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { HealthCheck } from "../../compiler/mod.ts";
import type { Backend } from "./types.ts";
import { createH2Client } from "./h2/client.ts";

/** A signal that aborts with `parent` or after `ms`; call `clear()` when done. */
function deadline(parent: AbortSignal, ms: number, what: string): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`${what} timed out after ${ms}ms`)), ms);
  function onAbort(): void {
    ac.abort(parent.reason);
  }
  if (parent.aborted) ac.abort(parent.reason);
  else parent.addEventListener("abort", onAbort, { once: true });
  return {
    signal: ac.signal,
    clear(): void {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}

function isIp(host: string): boolean {
  return host.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

/** TCP check: connect within the connection timeout, then close. */
async function tcpCheck(check: HealthCheck, backend: Backend, signal: AbortSignal): Promise<void> {
  const d = deadline(signal, check.connectionTimeout, "Connect");
  try {
    const conn = await Deno.connect({ hostname: backend.host, port: backend.port, signal: d.signal });
    conn.close();
  } catch (e) {
    throw d.signal.aborted ? d.signal.reason : e;
  } finally {
    d.clear();
  }
}

/** HTTP(S) check: GET path with the Host header; healthy iff 200. */
function httpCheck(
  check: HealthCheck,
  backend: Backend,
  signal: AbortSignal,
  agent: http.Agent | undefined,
): Promise<void> {
  const secure = check.scheme === "https";
  const mod = secure ? https : http;
  return new Promise<void>((resolve, reject) => {
    function fail(e: Error): void {
      clearTimeout(connectTimer);
      req.destroy();
      reject(e);
    }
    const req = mod.request({
      host: backend.host,
      port: backend.port,
      method: "GET",
      path: check.path || "/",
      headers: { host: check.host, "user-agent": "pingap/health-check" },
      agent: agent ?? false,
      signal,
      timeout: check.readTimeout,
      ...(secure ? { rejectUnauthorized: false, ...(isIp(check.host) ? {} : { servername: check.host }) } : {}),
    });
    const connectTimer = setTimeout(
      () => fail(new Error(`Connect timed out after ${check.connectionTimeout}ms`)),
      check.connectionTimeout,
    );
    req.on("socket", (socket) => {
      if (!socket.connecting) return clearTimeout(connectTimer); // Reused.
      socket.once(secure ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
    });
    req.on("timeout", () => fail(new Error(`Read timed out after ${check.readTimeout}ms`)));
    req.on("error", (e) => {
      clearTimeout(connectTimer);
      reject(signal.aborted ? signal.reason : e);
    });
    req.on("response", (res) => {
      clearTimeout(connectTimer);
      res.resume();
      res.on("error", reject);
      res.on("end", () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`Status ${res.statusCode} is not 200`));
      });
    });
    req.end();
  });
}

/** The path of the standard gRPC health check. */
const GRPC_HEALTH_CHECK = "/grpc.health.v1.Health/Check";

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A gRPC frame holding `HealthCheckRequest { string service = 1; }`. */
export function encodeGrpcHealthRequest(service: string): Uint8Array {
  const name = new TextEncoder().encode(service);
  const message = name.length ? [0x0a, ...varint(name.length), ...name] : [];
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/**
 * The `status` of a gRPC frame holding `HealthCheckResponse { ServingStatus
 * status = 1; }` (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN).
 */
export function decodeGrpcHealthResponse(frame: Uint8Array): number {
  if (frame.length < 5) throw new Error("gRPC answer has no message");
  if (frame[0] !== 0) throw new Error("gRPC answer is compressed");
  const length = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1);
  const end = 5 + length;
  if (frame.length < end) throw new Error("gRPC answer is truncated");
  let i = 5;
  let status = 0;
  function readVarint(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      if (i >= end) throw new Error("gRPC answer is truncated");
      const b = frame[i++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
    }
  }
  while (i < end) {
    const tag = readVarint();
    const wire = tag & 7;
    if (tag >>> 3 === 1 && wire === 0) status = readVarint();
    else if (wire === 0) readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 2) {
      const length = readVarint(); // Read first: `i += readVarint()` would add to the old `i`.
      i += length;
    } else if (wire === 5) i += 4;
    else throw new Error(`gRPC answer has wire type ${wire}`);
  }
  return status;
}

/**
 * gRPC check over the h2 upstream client (h2/client.ts: our own HTTP/2, no `node:http2`): one connection per check,
 * closed after it; TLS is not verified, SNI is the check's host.
 */
async function grpcCheck(check: HealthCheck, backend: Backend, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  const client = createH2Client({
    tls: check.tls,
    verifyCert: false,
    ...(check.tls && check.host !== "" && !isIp(check.host) ? { sni: check.host } : {}),
    connectionTimeout: check.connectionTimeout,
    readTimeout: check.readTimeout,
    idleTimeout: 0,
    poolSize: 1,
  }, 1);
  const watch = new AbortController();
  // The whole check (connect, answer, body, trailers) within connect + read time.
  const limit = setTimeout(
    () => watch.abort(new Error(`Timed out after ${check.connectionTimeout + check.readTimeout}ms`)),
    check.connectionTimeout + check.readTimeout,
  );
  const onAbort = () => watch.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const answer = await client.request(backend, {
      method: "POST",
      target: GRPC_HEALTH_CHECK,
      headers: new Headers({ host: check.host || backend.addr, "content-type": "application/grpc", te: "trailers" }),
      body: ReadableStream.from([encodeGrpcHealthRequest(check.service)]),
      watch: watch.signal,
    });
    const body = answer.body === null
      ? new Uint8Array(0)
      : new Uint8Array(await new Response(answer.body).arrayBuffer());
    const trailers = await answer.trailers;
    if (answer.status !== 200) throw new Error(`Status ${answer.status} is not 200`);
    // A trailers-only answer carries grpc-status in its head.
    const grpcStatus = trailers?.get("grpc-status") ?? answer.headers.get("grpc-status");
    if (grpcStatus !== "0") throw new Error(`grpc-status ${grpcStatus ?? "missing"}`);
    const status = decodeGrpcHealthResponse(body);
    if (status !== 1) throw new Error(`Serving status ${status} is not SERVING`);
  } catch (error) {
    if (watch.signal.aborted) throw signal.aborted ? signal.reason : watch.signal.reason;
    throw error;
  } finally {
    clearTimeout(limit);
    signal.removeEventListener("abort", onAbort);
    client.close();
  }
}

/**
 * Checks one backend once; rejects with the reason it is not healthy.
 *
 * @example Usage
 * ```ts ignore
 * import { DEFAULT_HEALTH_CHECK } from "../../compiler/mod.ts";
 * import { probe } from "./health.ts";
 * await probe(DEFAULT_HEALTH_CHECK, { host: "127.0.0.1", port: 80, weight: 1, addr: "127.0.0.1:80" });
 * ```
 */
export function probe(
  check: HealthCheck,
  backend: Backend,
  signal: AbortSignal = new AbortController().signal,
  agent?: http.Agent,
): Promise<void> {
  switch (check.scheme) {
    case "tcp":
      return tcpCheck(check, backend, signal);
    case "http":
    case "https":
      return httpCheck(check, backend, signal, agent);
    case "grpc":
      return grpcCheck(check, backend, signal);
  }
}
