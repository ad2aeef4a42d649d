/**
 * `mirror` (Pingap 0.16): a copy of each matching request sent in the background to `target` with the plugin's own
 * HTTP/1.1 client (as forward_auth's), its answer discarded. The request never waits for the copy: a bodiless one is
 * copied at once; a body is copied as it goes upstream (runtime/plugins/mirror_copy.ts) and sent when it has ended.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { appLog } from "../observe/log/app_log.ts";
import type { RequestContext } from "../proxy/context.ts";
import { createHttp1Client } from "../upstream/http1/client.ts";
import type { Backend } from "../upstream/types.ts";
import { runtimePlugin } from "./contract.ts";
import { mirrorHeaders, teeBounded } from "./mirror_copy.ts";

const POOL_SIZE = 16;
const IDLE_TIMEOUT = 30_000;

/** The request's fields as `[name, value, …]`. */
function fieldsOf(ctx: RequestContext): readonly string[] {
  const req = ctx.req;
  if (req.fields !== undefined) return req.fields;
  const out: string[] = [];
  req.headers.forEach((value, name) => out.push(name, value));
  return out;
}

const ignore = () => {};

/** The `mirror` plugin's runtime half. */
export const mirror = runtimePlugin(PLUGIN_DEFINITIONS.mirror, (plan, _env, self) => {
  const url = new URL(plan.target);
  const tls = url.protocol === "https:";
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  const bracketed = url.hostname.startsWith("[");
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  const backend: Backend = { host, port, weight: 1, addr: `${bracketed ? `[${host}]` : host}:${port}` };
  const prefix = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");
  const client = createHttp1Client({
    tls,
    sni: host,
    verifyCert: true,
    connectionTimeout: plan.timeout,
    totalConnectionTimeout: plan.timeout,
    readTimeout: plan.timeout,
    writeTimeout: plan.timeout,
    idleTimeout: IDLE_TIMEOUT,
    poolSize: POOL_SIZE,
  });
  let inflight = 0;
  let closed = false;

  /** Sends one copy in the background; its answer is read and dropped, a failure only logged. */
  function send(method: string, target: string, headers: Headers, body: Uint8Array | null): void {
    if (inflight >= plan.maxInflight) return;
    inflight++;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), plan.timeout);
    if (body !== null) headers.set("content-length", String(body.length));
    const stream = body === null ? null : new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(body);
        c.close();
      },
    });
    client.request(backend, { method, target, headers, body: stream, watch: abort.signal, timed: false })
      .then((res) => res.body?.cancel().catch(ignore))
      .catch((e) => {
        // Copies cut short by the instance's end (a reload that changed it, a shutdown) are not failures.
        if (closed) return;
        appLog("warn", "mirror request failed", {
          plugin: self.name,
          category: "mirror",
          target: `${plan.target}${target.slice(prefix.length)}`,
          error: abort.signal.aborted ? `timed out after ${plan.timeout} ms` : String(e?.message ?? e),
        });
      })
      .finally(() => {
        clearTimeout(timer);
        inflight--;
      });
  }

  return {
    request(ctx) {
      if (ctx.header("x-pingap-mirror") !== null) return undefined;
      if (!plan.methods.includes(ctx.method)) return undefined;
      if (plan.percentage < 100 && Math.random() * 100 >= plan.percentage) return undefined;
      if (inflight >= plan.maxInflight) return undefined;
      const length = ctx.header("content-length");
      // A body stream without a length (chunked, or a front end that says none) counts as a body.
      const bodied = ctx.req.body !== null && (length === null || Number(length) > 0);
      if (bodied && (plan.maxBodySize === 0 || (length !== null && Number(length) > plan.maxBodySize))) {
        return undefined;
      }
      const method = ctx.method;
      const target = prefix + ctx.uri;
      const headers = mirrorHeaders(fieldsOf(ctx), {
        host: plan.host ?? ctx.req.header("host") ?? ctx.host,
        proto: ctx.scheme,
        clientIp: ctx.clientIp(),
      });
      if (!bodied) {
        send(method, target, headers, null);
        return undefined;
      }
      // The body is copied as it goes upstream; the copy leaves when it has ended.
      const tee = (body: ReadableStream<Uint8Array>) =>
        teeBounded(body, plan.maxBodySize, (bytes) => send(method, target, headers, bytes));
      const before = ctx.bodyFilter;
      ctx.bodyFilter = before ? (body) => tee(before(body)) : tee;
      return undefined;
    },
    dispose() {
      closed = true;
      client.close();
    },
  };
});
