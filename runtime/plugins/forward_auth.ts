/**
 * `forward_auth`: asks an auth service whether each request may pass (the decisions are in
 * `forward_auth_exchange.ts`; this file does the subrequest).
 *
 * The subrequest goes through the proxy's own HTTP/1.1 upstream client (runtime/upstream/http1/), not `fetch`: the
 * auth service's answer may be relayed to the client as it is, and `fetch` decodes a compressed body while keeping
 * its `content-encoding` (the client would get a body that does not match its header); the client also follows no
 * redirect (a `302` to a login page is the auth service's verdict, to relay), keeps connections alive per plugin,
 * and has connect, read and write time limits. On top of those, one deadline of `timeout` covers the whole exchange
 * (a service that trickles bytes cannot hold the request), and a relayed body is read up to 1 MiB.
 *
 * Fails closed: a refused, reset, slow or oversized subrequest answers `502 Forward auth request failed` with an
 * error line in the application log (the plugin's name and the cause; never a header or credential).
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { appLog } from "../observe/log/app_log.ts";
import { responseWith } from "../http/response_build.ts";
import type { HttpResponse } from "../http/message.ts";
import { messageBytes } from "../http/read_capped.ts";
import type { RequestContext } from "../proxy/context.ts";
import { createHttp1Client } from "../upstream/http1/client.ts";
import type { Backend, UpstreamAnswer } from "../upstream/types.ts";
import {
  authRequestHeaders,
  authTarget,
  copiedHeaders,
  FAILED_MESSAGE,
  FAILED_STATUS,
  relayedFields,
  verdictOf,
} from "./forward_auth_exchange.ts";
import { runtimePlugin } from "./contract.ts";

/** The largest relayed body; a larger one fails closed. */
export const MAX_RELAYED_BODY = 1024 * 1024;

/** Idle connections kept to the auth service, and for how long. */
const POOL_SIZE = 32;
const IDLE_TIMEOUT = 30_000;

/** Creates the forward_auth plugin. */
export const forwardAuth = runtimePlugin(PLUGIN_DEFINITIONS.forwardAuth, (c, _env, plan) => {
  const to = authTarget(c.authUrl);
  const backend: Backend = { host: to.host, port: to.port, weight: 1, addr: to.addr };
  const client = createHttp1Client({
    tls: to.tls,
    sni: to.host,
    verifyCert: true,
    connectionTimeout: c.timeout,
    totalConnectionTimeout: c.timeout,
    readTimeout: c.timeout,
    writeTimeout: c.timeout,
    idleTimeout: IDLE_TIMEOUT,
    poolSize: POOL_SIZE,
  });
  const failed = (ctx: RequestContext, cause: string): HttpResponse => {
    // A client that went away is ordinary (info); anything else is the auth service's failure.
    appLog(ctx.clientWatch.aborted ? "info" : "error", "forward auth subrequest failed", {
      plugin: plan.name,
      category: "forward_auth",
      error: cause,
      location: ctx.location?.name,
      client_ip: ctx.clientIp(),
      path: ctx.path,
    });
    return responseWith(FAILED_MESSAGE, { status: FAILED_STATUS });
  };
  return {
    async request(ctx) {
      const headers = authRequestHeaders(
        clientFields(ctx),
        c.requestHeaders,
        {
          method: ctx.method,
          uri: ctx.uri,
          host: ctx.host,
          proto: ctx.scheme,
          clientIp: ctx.clientIp(),
        },
        to.hostHeader,
        to.authorization,
      );
      // One deadline for the whole exchange; the client going away ends it too.
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, c.timeout);
      const watch = ctx.clientWatch;
      const onClientGone = () => abort.abort();
      watch.addEventListener("abort", onClientGone, { once: true });
      try {
        let res: UpstreamAnswer;
        try {
          res = await client.request(backend, {
            method: "GET",
            target: to.target,
            headers,
            body: null,
            watch: abort.signal,
            timed: false,
          });
        } catch (e) {
          return failed(ctx, timedOut ? `timed out after ${c.timeout} ms` : errorText(e));
        }
        const fields = fieldsOf(res);
        const verdict = verdictOf(res.status);
        if (verdict === "pass") {
          // Pingap reads no body of a passing answer: a short one came with the head, a longer one is dropped.
          if (res.whole === undefined) res.body?.cancel().catch(ignore);
          for (const [name, value] of copiedHeaders(fields, c.addHeaders)) {
            if (value !== null) ctx.setUpstreamHeader(name, value);
            else if (ctx.header(name) !== null) ctx.upstreamHeaders.delete(name);
          }
          return undefined;
        }
        if (verdict === "fail") {
          res.body?.cancel().catch(ignore);
          return failed(ctx, `auth service answered status ${res.status}`);
        }
        let body: Uint8Array<ArrayBuffer> | null;
        try {
          body = await readRelayed(res, MAX_RELAYED_BODY, abort.signal);
        } catch (e) {
          return failed(ctx, timedOut ? `timed out after ${c.timeout} ms` : errorText(e));
        }
        const bodiless = res.status === 204 || res.status === 304 || ctx.method === "HEAD";
        return responseWith(bodiless ? null : body, { status: res.status }, relayedFields(fields));
      } finally {
        clearTimeout(timer);
        watch.removeEventListener("abort", onClientGone);
      }
    },
    dispose() {
      client.close();
    },
  };
});

/** The client's fields as `[name, value, …]`, lower-case names. */
function clientFields(ctx: RequestContext): readonly string[] {
  const req = ctx.req;
  // The fields as they came while no `Headers` was made from them (they are then what the client sent).
  if (req.fields !== undefined) return req.fields;
  const out: string[] = [];
  req.headers.forEach((value, name) => out.push(name, value));
  return out;
}

/** The answer's fields as `[name, value, …]`, lower-case names. */
function fieldsOf(res: UpstreamAnswer): readonly string[] {
  if (res.fields !== undefined) return res.fields;
  const out: string[] = [];
  res.headers.forEach((value, name) => out.push(name, value));
  return out;
}

/** The whole body (null for none), or an error past `max` bytes or when `signal` aborts the read. */
async function readRelayed(
  res: UpstreamAnswer,
  max: number,
  signal: AbortSignal,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (res.whole === undefined && res.body === null) return null;
  const bytes = await messageBytes(res, max, signal);
  if (bytes === undefined) throw new Error(`auth answer body over ${max} bytes`);
  return bytes;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function ignore(): void {}
