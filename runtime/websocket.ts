/**
 * WebSocket proxying. `Deno.serve` gives no raw socket after an upgrade,
 * so the proxy bridges messages: it first opens a WebSocket to the backend
 * (same path, query, headers and subprotocols), then upgrades the client
 * with the protocol the backend chose, and pipes messages and closes both
 * ways. Other `Upgrade` protocols cannot be proxied on `Deno.serve` and get
 * 501 (see docs/differences.md).
 *
 * @module
 */
import type { RequestContext } from "./context.ts";
import { ProxyError } from "./errors.ts";
import type { Backend } from "./upstream/types.ts";
import type { IncomingRequest } from "./h1/request.ts";

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

/** Is this a WebSocket upgrade request? */
export function isWebSocket(req: IncomingRequest): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Opens the backend socket, then upgrades the client and bridges them. */
export async function proxyWebSocket(
  ctx: RequestContext,
  backend: Backend,
  options: { tls: boolean; headers: Headers; timeout?: number },
): Promise<Response> {
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
    try {
      upstream.close();
    } catch {
      // Already closed.
    }
    throw new ProxyError(502, "upstream", `WebSocket to ${backend.addr} failed`);
  }
  // Upgrades never take the HTTP/1.1 front end's fast path (it relays them to Deno.serve), so this is a Request.
  if (!(ctx.req instanceof Request)) {
    upstream.close();
    throw new ProxyError(501, "upgrade", "WebSocket upgrade needs Deno.serve");
  }
  const { socket, response } = Deno.upgradeWebSocket(ctx.req, upstream.protocol ? { protocol: upstream.protocol } : {});
  socket.binaryType = "arraybuffer";
  const pending: (string | ArrayBuffer)[] = [];
  socket.onopen = () => {
    for (const m of pending) socket.send(m);
    pending.length = 0;
  };
  upstream.onmessage = (e) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(e.data);
    else if (socket.readyState === WebSocket.CONNECTING) pending.push(e.data);
  };
  socket.onmessage = (e) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(e.data);
  };
  const closeCode = (code: number) => (code === 1005 || code === 1006 || code === 1015 ? 1000 : code);
  upstream.onclose = (e) => {
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      try {
        socket.close(closeCode(e.code), e.reason);
      } catch {
        // Closing a socket that just closed.
      }
    }
  };
  socket.onclose = (e) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.close(closeCode(e.code), e.reason);
  };
  upstream.onerror = () => {};
  socket.onerror = () => {};
  return response;
}
