/**
 * Bounds the WebSocket close handshake. Deno's `WebSocket` (both the one
 * `Deno.upgradeWebSocket` gives and the client) keeps its TCP connection
 * open after `close()` until the peer answers with its own close frame, for
 * ever when the peer never does (a hostile client). Its `idleTimeout`
 * (ping/pong) does not help: it only runs while the socket is OPEN, not
 * CLOSING. There is no public way to drop the connection, so after
 * {@linkcode CLOSE_HANDSHAKE_MS} a socket still CLOSING has its resource
 * closed the way Deno's own idle timeout does (`core.tryClose` on its rid):
 * the TCP connection ends and the `close` event fires (code 1005).
 *
 * This reaches Deno internals (`Deno[Deno.internal].core` and the socket's
 * `[[rid]]` slot); `ws_force_close_test.ts` fails if a Deno upgrade moves
 * them. Without them the close stays unbounded and a warning says so once.
 *
 * @module
 */
import { log } from "../observe/log/app_log.ts";

/** How long a peer has to answer our close frame before its connection is dropped. */
export const CLOSE_HANDSHAKE_MS = 2_000;

interface DenoCore {
  tryClose(rid: number): void;
}

function core(): DenoCore | undefined {
  // deno-lint-ignore no-explicit-any
  const d = Deno as any;
  const internal = d.internal === undefined ? undefined : d[d.internal];
  const c = internal?.core;
  return typeof c?.tryClose === "function" ? c as DenoCore : undefined;
}

function ridOf(ws: WebSocket): number | undefined {
  const sym = Object.getOwnPropertySymbols(ws).find((s) => s.description === "[[rid]]");
  const rid = sym === undefined ? undefined : (ws as unknown as Record<symbol, unknown>)[sym];
  return typeof rid === "number" ? rid : undefined;
}

/** Can this Deno drop a WebSocket's connection? (The test asserts it.) */
export function canForceClose(ws: WebSocket): boolean {
  return core() !== undefined && ridOf(ws) !== undefined;
}

let warned = false;

/**
 * Drops `ws`'s connection if it is still CLOSING `ms` from now (its peer did not answer the close frame). Call it
 * right after `ws.close(...)`. Never throws.
 */
export function boundCloseHandshake(ws: WebSocket, ms: number = CLOSE_HANDSHAKE_MS): void {
  if (ws.readyState !== WebSocket.CLOSING) return;
  const timer = setTimeout(() => {
    if (ws.readyState !== WebSocket.CLOSING) return;
    const c = core();
    const rid = ridOf(ws);
    if (c === undefined || rid === undefined) {
      if (!warned) log.warn("websocket: this Deno gives no way to drop a peer that ignores the close frame");
      warned = true;
      return;
    }
    try {
      c.tryClose(rid);
    } catch (e) {
      log.debug(`websocket: dropping a connection failed: ${(e as Error).message}`);
    }
  }, ms);
  ws.addEventListener("close", () => clearTimeout(timer), { once: true });
}
