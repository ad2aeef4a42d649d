/**
 * A local OTLP/HTTP trace receiver for tests: a `Deno.serve` on a free port
 * that takes `POST /v1/traces` in OTLP JSON (gzip or not) and keeps the
 * spans it decoded.
 *
 * @module
 */

/** One received span (ids in hex, as OTLP JSON carries them). */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>` (the exporter adds `/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received. */
  posts(): number;
  /** Resolves once `pred` holds for the spans received (fails after `ms`). */
  waitFor(pred: (spans: readonly ReceivedSpan[]) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue;
}

/** Starts a receiver. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let posts = 0;
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a as Deno.NetAddr) },
    async (req) => {
      if (req.method !== "POST" || !req.url.endsWith("/v1/traces")) return new Response("not found", { status: 404 });
      posts++;
      let body = req.body!;
      if (req.headers.get("content-encoding") === "gzip") body = body.pipeThrough(new DecompressionStream("gzip"));
      const doc = JSON.parse(await new Response(body).text());
      for (const rs of doc.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const attributes: Record<string, unknown> = {};
            for (const a of s.attributes ?? []) attributes[a.key] = value(a.value);
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: s.kind,
              attributes,
            });
          }
        }
      }
      return Response.json({});
    },
  );
  const addr = await ready.promise;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    spans,
    posts: () => posts,
    async waitFor(pred, ms = 10_000) {
      for (const end = Date.now() + ms; !pred(spans);) {
        if (Date.now() > end) throw new Error(`spans not received within ${ms} ms: ${JSON.stringify(spans)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => server.shutdown(),
  };
}
