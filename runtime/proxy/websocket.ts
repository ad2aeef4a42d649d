/**
 * WebSocket proxying. `Deno.serve` gives no raw socket after an upgrade,
 * so the proxy bridges messages: it first opens a WebSocket to the backend
 * (same path, query, headers and subprotocols), then upgrades the client
 * with the protocol the backend chose, and pipes messages and closes both
 * ways. Other `Upgrade` protocols cannot be proxied on `Deno.serve` and get
 * 501 (see docs/differences.md).
 *
 * Closes pass through with codes a peer may send (`ws_close.ts`): a side
 * that vanishes without a close frame, or sends a frame over Deno's 64 MiB
 * limit, gives the other side 1011 or 1009 (1000 with a reason towards the
 * upstream, whose WebSocket API sends no other). A side that reads slower
 * than it is sent to, with over 16 MiB queued for it, gets both sides
 * closed (1008 or 1013 to the client). Nothing here throws in an event
 * callback. A peer that does not answer our close frame within 2 s has its
 * connection dropped (`ws_force_close.ts`).
 *
 * @module
 */
import type { RequestContext } from "./context.ts";
import { ProxyError } from "./errors.ts";
import type { Backend } from "../upstream/types.ts";
import type { HttpResponse, IncomingRequest } from "../http/message.ts";
import { fetchAnswer } from "../http/fetch_adapter.ts";
import { type Close, closeForClient, closeForUpstream, isTooLarge, MAX_BUFFERED_BYTES } from "./ws_close.ts";
import { log } from "../observe/log/app_log.ts";
import { boundCloseHandshake } from "./ws_force_close.ts";

const SKIP = new Set([
  "host",
  "connection",
  "upgrade",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "content-length",
]);

/**
 * Closes `ws` unless it is closing or closed already, and drops its connection if the peer does not answer the close
 * within 2 s; never throws (the code and reason were made valid).
 */
function closeQuietly(ws: WebSocket, close: Close): void {
  if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
  try {
    if (close.code === undefined) ws.close();
    else ws.close(close.code, close.reason);
    boundCloseHandshake(ws);
  } catch (e) {
    // A close racing the socket's own end: nothing is left to tell the peer.
    log.debug(`websocket: close failed: ${(e as Error).message}`);
  }
}

/** Is this a WebSocket upgrade request? */
export function isWebSocket(req: IncomingRequest): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Opens the backend socket, then upgrades the client and bridges them. */
export async function proxyWebSocket(
  ctx: RequestContext,
  backend: Backend,
  options: { tls: boolean; headers: Headers; timeout?: number },
): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  for (const [k, v] of options.headers) if (!SKIP.has(k)) headers[k] = v;
  headers["host"] = ctx.req.headers.get("host") ?? ctx.host;
  const protocols = (ctx.req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(
    Boolean,
  );
  const url = `${options.tls ? "wss" : "ws"}://${backend.addr}${ctx.uri}`;
  // @ts-ignore: Deno accepts { protocols, headers } as the second argument.
  const upstream = new WebSocket(url, { protocols, headers });
  upstream.binaryType = "arraybuffer";
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.timeout ?? 10_000);
    upstream.onopen = () => {
      clearTimeout(timer);
      resolve(true);
    };
    upstream.onerror = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
  if (!opened) {
    closeQuietly(upstream, { reason: "" });
    throw new ProxyError(502, "upstream", `WebSocket to ${backend.addr} failed`);
  }
  // Only behind `Deno.serve` (`PINGAP_HTTP1=deno-serve`; see `mayUpgrade`): a fetch Request is behind.
  const native = ctx.req.fetch;
  if (native === undefined) {
    closeQuietly(upstream, { reason: "" });
    throw new ProxyError(501, "upgrade", "WebSocket upgrade needs Deno.serve");
  }
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(native, upstream.protocol ? { protocol: upstream.protocol } : {});
  } catch (e) {
    closeQuietly(upstream, { reason: "" });
    throw e;
  }
  const { socket, response } = upgraded;
  socket.binaryType = "arraybuffer";
  const pending: (string | ArrayBuffer)[] = [];
  // The message of each side's error event, read by its close event (Deno says "Frame too large" there).
  let clientError: string | undefined;
  let upstreamError: string | undefined;
  // The upstream's close when it came before the client's socket opened.
  let closeLater: Close | undefined;
  socket.onopen = () => {
    for (const m of pending) socket.send(m);
    pending.length = 0;
    if (closeLater) closeQuietly(socket, closeLater);
  };
  // The WebSocket API cannot stop reading one side while the other is slow: what a side does not read piles up in
  // this process. Past MAX_BUFFERED_BYTES both sides are closed rather than letting one reader hold unbounded memory.
  const stalled = (slow: "client" | "upstream") => {
    log.warn(`websocket ${ctx.uri}: the ${slow} reads slower than it is sent to, over 16 MiB queued: closed`);
    const reason = `${slow} not reading`;
    closeQuietly(socket, slow === "client" ? { code: 1008, reason } : { code: 1013, reason });
    closeQuietly(upstream, { code: 1000, reason });
  };
  upstream.onmessage = (e) => {
    if (socket.readyState === WebSocket.OPEN) {
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) stalled("client");
      else socket.send(e.data);
    } else if (socket.readyState === WebSocket.CONNECTING) pending.push(e.data);
  };
  socket.onmessage = (e) => {
    if (upstream.readyState !== WebSocket.OPEN) return;
    if (upstream.bufferedAmount > MAX_BUFFERED_BYTES) stalled("upstream");
    else upstream.send(e.data);
  };
  upstream.onclose = (e) => {
    const close = closeForClient(e.code, e.reason, upstreamError);
    if (isTooLarge(upstreamError)) log.warn(`websocket ${ctx.uri}: ${close.reason}, the client gets 1009`);
    if (socket.readyState === WebSocket.CONNECTING) closeLater = close;
    else closeQuietly(socket, close);
  };
  socket.onclose = (e) => {
    const close = closeForUpstream(e.code, e.reason, clientError);
    if (isTooLarge(clientError)) log.warn(`websocket ${ctx.uri}: ${close.reason}, dropped by Deno`);
    closeQuietly(upstream, close);
  };
  upstream.onerror = (e) => {
    upstreamError = (e as ErrorEvent).message;
  };
  socket.onerror = (e) => {
    clientError = (e as ErrorEvent).message;
  };
  return fetchAnswer(response);
}
