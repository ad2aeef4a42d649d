/**
 * Real origins for the runtime tests: `Deno.serve` servers on free ports
 * (an echo origin that answers with what it received, or any handler), a
 * TCP listener that accepts and never answers, and a refused port.
 *
 * @module
 */

/** What the echo origin answers with (JSON). */
export interface Echo {
  /** The origin's name. */
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** Raw query without `?` ("" when none). */
  readonly query: string;
  /** Lower-cased header names; repeated headers joined by `, `. */
  readonly headers: Record<string, string>;
  /** The peer as the origin saw it (the proxy). */
  readonly remote: string;
  /** Body length in bytes. */
  readonly bodyLength: number;
}

/** A running origin. */
export interface Origin {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** Requests served, by path. */
  readonly hits: Map<string, number>;
  /** Requests served in total. */
  count(): number;
  /** Stops it once in-flight requests finished (release held handlers first). */
  close(): Promise<void>;
}

/** A handler for {@linkcode startOrigin}. */
export type OriginHandler = (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>;

/** Splits a request URL into raw path and query without decoding. */
export function rawTarget(url: string): { path: string; query: string } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const target = start < 0 ? "/" : url.slice(start);
  const q = target.indexOf("?");
  return q < 0 ? { path: target, query: "" } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** Starts a `Deno.serve` origin on 127.0.0.1 and a free port. */
export async function startOrigin(name: string, handler: OriginHandler): Promise<Origin> {
  const hits = new Map<string, number>();
  let total = 0;
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => ready.resolve(a as Deno.NetAddr),
    onError: (e) => {
      console.error(`origin ${name}:`, e);
      return new Response("origin error", { status: 500 });
    },
  }, (req, info) => {
    const { path } = rawTarget(req.url);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    total++;
    return handler(req, info as Deno.ServeHandlerInfo<Deno.NetAddr>);
  });
  const addr = await ready.promise;
  return {
    name,
    port: addr.port,
    addr: `127.0.0.1:${addr.port}`,
    hits,
    count: () => total,
    async close() {
      await server.shutdown();
      await server.finished;
    },
  };
}

/** The echo handler: method, path, query, headers, peer and body length as JSON. */
export function echoHandler(name: string): OriginHandler {
  return async (req, info) => {
    const { path, query } = rawTarget(req.url);
    let bodyLength = 0;
    try {
      if (req.body) {
        for await (const chunk of req.body) bodyLength += chunk.byteLength;
      }
    } catch {
      // The proxy gave up on the request (its client went away).
      return new Response(null, { status: 499 });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of req.headers) headers[k] = v;
    const echo: Echo = {
      name,
      method: req.method,
      path,
      query,
      headers,
      remote: `${info.remoteAddr.hostname}:${info.remoteAddr.port}`,
      bodyLength,
    };
    return Response.json(echo, { headers: { "x-origin": name } });
  };
}

/** Starts an echo origin. */
export function startEchoOrigin(name: string): Promise<Origin> {
  return startOrigin(name, echoHandler(name));
}

/** A TCP listener that accepts connections, reads them, and never answers. */
export interface SilentOrigin {
  readonly port: number;
  readonly addr: string;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** Starts a {@linkcode SilentOrigin}. */
export function startSilentOrigin(): SilentOrigin {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const readers: Promise<void>[] = [];
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conns.add(conn);
        readers.push((async () => {
          const buf = new Uint8Array(16 * 1024);
          try {
            while ((await conn.read(buf)) !== null) { /* discard */ }
          } catch {
            // Closed by close().
          }
        })());
      }
    } catch {
      // Listener closed.
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    port,
    addr: `127.0.0.1:${port}`,
    accepted: () => accepted,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // Already closed by the peer.
        }
      }
      await loop;
      await Promise.all(readers);
    },
  };
}

/** A port nothing listens on (bound, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
