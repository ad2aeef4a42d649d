/**
 * Renders compiled header templates (`$host`, `$http_origin`, `:ctx`,
 * `$ENV`, captures) against a request. Pingap semantics: an unresolvable
 * variable keeps its literal text.
 *
 * @module
 */
import type { Template } from "../../compiler/mod.ts";
import type { RequestContext } from "./context.ts";

let hostname: string | undefined;

function machineHostname(): string {
  if (hostname === undefined) {
    try {
      hostname = Deno.hostname();
    } catch {
      hostname = "";
    }
  }
  return hostname;
}

function envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Context keys readable as `:key` (the access log has the full set). */
export function contextValue(ctx: RequestContext, key: string): string | undefined {
  switch (key) {
    case "upstream_addr":
      return ctx.upstreamAddr;
    case "upstream_reused":
      return ctx.upstreamReused === undefined ? undefined : String(ctx.upstreamReused);
    case "upstream_status":
      return ctx.upstreamStatus === undefined ? undefined : String(ctx.upstreamStatus);
    case "location":
      return ctx.location?.name;
    case "request_id":
      return ctx.requestId;
    default:
      return undefined;
  }
}

function proxyAddXForwardedFor(ctx: RequestContext): string {
  const xff = ctx.header("x-forwarded-for");
  return xff ? `${xff}, ${ctx.remoteAddr}` : ctx.remoteAddr;
}

/**
 * Renders a template. A single literal part returns it as is.
 */
export function render(t: Template, ctx: RequestContext): string {
  if (t.length === 1 && typeof t[0] === "string") return t[0];
  let out = "";
  for (const part of t) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    if ("var" in part) {
      switch (part.var) {
        case "host":
          out += ctx.host;
          break;
        case "scheme":
          out += ctx.scheme;
          break;
        case "hostname":
          out += machineHostname();
          break;
        case "remote_addr":
          out += ctx.remoteAddr;
          break;
        case "remote_port":
          out += String(ctx.remotePort);
          break;
        case "client_ip":
          out += ctx.clientIp();
          break;
        case "server_addr":
          out += ctx.serverAddr;
          break;
        case "server_port":
          out += String(ctx.serverPort);
          break;
        case "upstream_addr":
          out += ctx.upstreamAddr ?? "$upstream_addr";
          break;
        case "proxy_add_x_forwarded_for":
          out += proxyAddXForwardedFor(ctx);
          break;
        case "ja4":
          out += ctx.tls?.ja4?.ja4 ?? "$ja4";
          break;
      }
    } else if ("header" in part) {
      out += ctx.req.headers.get(part.header) ?? "";
    } else if ("ctx" in part) {
      out += contextValue(ctx, part.ctx) ?? "";
    } else {
      out += ctx.captures?.[part.name] ?? envValue(part.name) ?? part.raw;
    }
  }
  return out;
}
