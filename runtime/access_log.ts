/**
 * Access-log lines from the compiled format parts (no regex per line).
 *
 * @module
 */
import type { LogPart } from "../compiler/values/access_log.ts";
import type { RequestContext } from "./context.ts";
import { contextValue } from "./variables.ts";

/** Decimal human size: 512B, 1KB, 1.1KB, 1.2MB (Pingap's format). */
export function humanSize(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return `${n}B`;
  const s = (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, "");
  return `${s}${units[i]}`;
}

/** Human duration: 512ms, 1.1s, 1.8m, 1.9h (Pingap's format). */
export function humanDuration(ms: number): string {
  const f = (v: number) => (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, "");
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${f(ms / 1000)}s`;
  if (ms < 3_600_000) return `${f(ms / 60_000)}m`;
  return `${f(ms / 3_600_000)}h`;
}

/** Renders one access-log line. */
export function formatAccessLog(parts: readonly LogPart[], ctx: RequestContext, res: Response): string {
  let out = "";
  const dash = (v: string | null | undefined) => (v === null || v === undefined || v === "" ? "-" : v);
  for (const p of parts) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    if ("tag" in p) {
      switch (p.tag) {
        case "host":
          out += dash(ctx.host);
          break;
        case "method":
          out += ctx.method;
          break;
        case "path":
          out += ctx.path;
          break;
        case "proto":
          out += "HTTP/1.1";
          break;
        case "query":
          out += dash(ctx.rawQuery);
          break;
        case "remote":
          out += ctx.remoteAddr;
          break;
        case "client_ip":
          out += ctx.clientIp();
          break;
        case "scheme":
          out += ctx.scheme;
          break;
        case "uri":
          out += ctx.uri;
          break;
        case "referer":
          out += dash(ctx.req.headers.get("referer"));
          break;
        case "user_agent":
          out += dash(ctx.req.headers.get("user-agent"));
          break;
        case "when":
          out += new Date(ctx.startWall).toISOString();
          break;
        case "when_utc_iso":
          out += new Date(ctx.startWall).toISOString();
          break;
        case "when_unix":
          out += String(ctx.startWall);
          break;
        case "size":
          out += dash(res.headers.get("content-length"));
          break;
        case "size_human": {
          const len = res.headers.get("content-length");
          out += len === null ? "-" : humanSize(Number(len));
          break;
        }
        case "status":
          out += String(res.status);
          break;
        case "latency":
          out += String(Math.round(ctx.elapsed()));
          break;
        case "latency_human":
          out += humanDuration(ctx.elapsed());
          break;
        case "payload_size":
          out += dash(ctx.req.headers.get("content-length"));
          break;
        case "payload_size_human": {
          const len = ctx.req.headers.get("content-length");
          out += len === null ? "-" : humanSize(Number(len));
          break;
        }
        case "request_id":
          out += dash(ctx.requestId);
          break;
      }
    } else if ("cookie" in p) out += ctx.cookie(p.cookie) ?? "";
    else if ("requestHeader" in p) out += dash(ctx.req.headers.get(p.requestHeader));
    else if ("responseHeader" in p) out += dash(res.headers.get(p.responseHeader));
    else if ("env" in p) out += p.env === "hostname" ? Deno.hostname() : Deno.env.get(p.env) ?? "";
    else out += contextValue(ctx, p.ctx) ?? "";
  }
  return out;
}
