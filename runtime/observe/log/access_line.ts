/**
 * Access-log lines: the compiled format parts (compiler/values/access_log.ts)
 * turned once into one function per part, so a line is a loop of string
 * concatenations: no regex, no lookup by tag name per request.
 *
 * @module
 */
import type { LogPart } from "../../../compiler/mod.ts";
import { contextPiece, type Piece } from "./context_keys.ts";
import { humanDuration, humanSize } from "./human.ts";
import type { AccessRecord } from "./record.ts";
import { localIso, utcIso } from "./when.ts";

function dash(v: string | null | undefined): string {
  return v === null || v === undefined || v === "" ? "-" : v;
}

/** Body bytes read from the client (as the front end counted them), else what its content-length announced. */
function payloadSize(r: AccessRecord): number {
  const read = r.ctx.req.bodyRead;
  if (read !== undefined) return read;
  const len = r.ctx.header("content-length");
  return len === null ? 0 : Number(len) || 0;
}

const TAG_PIECES: { readonly [tag: string]: Piece } = {
  host: (r) => dash(r.ctx.host),
  method: (r) => r.ctx.method,
  path: (r) => dash(r.ctx.path),
  proto: (r) => r.ctx.req.version ?? "HTTP/1.1",
  query: (r) => dash(r.ctx.rawQuery),
  remote: (r) => dash(r.ctx.remoteAddr),
  client_ip: (r) => dash(r.ctx.clientIp()),
  scheme: (r) => r.ctx.scheme,
  uri: (r) => dash(r.ctx.uri),
  referer: (r) => dash(r.ctx.header("referer")),
  user_agent: (r) => dash(r.ctx.header("user-agent")),
  when: (r) => localIso(r.now),
  when_utc_iso: (r) => utcIso(r.now),
  when_unix: (r) => String(r.now),
  size: (r) => String(r.size),
  size_human: (r) => humanSize(r.size),
  status: (r) => String(r.status),
  latency: (r) => String(Math.floor(r.elapsed)),
  latency_human: (r) => humanDuration(r.elapsed),
  payload_size: (r) => String(payloadSize(r)),
  payload_size_human: (r) => humanSize(payloadSize(r)),
  request_id: (r) => dash(r.ctx.requestId),
};

function readEnv(name: string): string {
  try {
    return (name === "hostname" ? Deno.hostname() : Deno.env.get(name)) ?? "";
  } catch {
    return "";
  }
}

function piece(p: Exclude<LogPart, string>): Piece | string {
  if ("tag" in p) return TAG_PIECES[p.tag]!;
  if ("cookie" in p) {
    const name = p.cookie;
    return (r) => r.ctx.cookie(name) ?? "";
  }
  if ("requestHeader" in p) {
    // From the raw fields of a front end request (no `Headers` made for it).
    const name = p.requestHeader.toLowerCase();
    return (r) => dash(r.ctx.header(name));
  }
  if ("responseHeader" in p) {
    const name = p.responseHeader;
    return (r) => dash(r.response.headers.get(name));
  }
  if ("env" in p) return readEnv(p.env);
  return contextPiece(p.ctx);
}

function jsonInside(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function jsonPiece(p: Piece): Piece {
  return (r) => jsonInside(p(r));
}

/** Builds a line from a record. */
export type AccessLine = (r: AccessRecord) => string;

/**
 * Compiles format parts into a line builder. `{$NAME}` is read here, once,
 * and kept as text (Pingap reads it when it parses the format).
 *
 * @example Usage
 * ```ts
 * import { compileAccessLine } from "./access_line.ts";
 * const line = compileAccessLine([{ tag: "method" }, " ", { tag: "status" }]);
 * // line(record) === "GET 200"
 * ```
 */
export function compileAccessLine(parts: readonly LogPart[], options: { json?: boolean } = {}): AccessLine {
  const pieces: (Piece | string)[] = [];
  for (const p of parts) {
    let x = typeof p === "string" ? p : piece(p);
    // The json preset: a value is the inside of a JSON string (quotes, backslashes and controls escaped).
    if (options.json && typeof p !== "string") x = typeof x === "string" ? jsonInside(x) : jsonPiece(x);
    const prev = pieces[pieces.length - 1];
    if (typeof x === "string" && typeof prev === "string") pieces[pieces.length - 1] = prev + x;
    else pieces.push(x);
  }
  const n = pieces.length;
  return (r) => {
    let out = "";
    for (let i = 0; i < n; i++) {
      const x = pieces[i]!;
      out += typeof x === "string" ? x : x(r);
    }
    return out;
  };
}
