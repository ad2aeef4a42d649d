/**
 * Load generators of the proxy bench: `wrk` (HTTP/1.1, latency percentiles)
 * and `h2load` (h2c with prior knowledge, mean latency only), with their
 * output parsed into one shape. Non-2xx answers and socket errors are
 * counted, so a fast error page cannot pass for a fast proxy.
 *
 * @module
 */

/** One load run. */
export interface LoadResult {
  /** Requests completed. */
  readonly requests: number;
  readonly rps: number;
  /** Median latency, ms (NaN when the tool does not report it). */
  readonly p50: number;
  /** 99th percentile, ms (NaN when the tool does not report it). */
  readonly p99: number;
  /** Non-2xx/3xx answers plus socket errors. */
  readonly errors: number;
}

/** What to send. */
export interface LoadSpec {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  /** A wrk Lua script (POST bodies). */
  readonly script?: string;
  /** Extra request headers for wrk (`Name: value`). */
  readonly headers?: readonly string[];
}

function ms(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n;
}

/** Parses wrk's `--latency` report. */
export function parseWrk(text: string): LoadResult {
  const rps = Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN);
  const pct = (p: string) => {
    const m = text.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  let errors = Number(text.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  const sock = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  if (sock) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
  const requests = Number(text.match(/(\d+) requests in/)?.[1] ?? 0);
  return { requests, rps, p50: pct("50"), p99: pct("99"), errors };
}

/** Parses h2load's report. */
export function parseH2load(text: string): LoadResult {
  const rps = Number(text.match(/finished in [\d.]+\w+, ([\d.]+) req\/s/)?.[1] ?? NaN);
  const req = text.match(/requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored/);
  const codes = text.match(/status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/);
  const errors = (req ? Number(req[2]) + Number(req[3]) : 0) + (codes ? Number(codes[1]) + Number(codes[2]) : 0);
  const mean = text.match(/time for request:\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)/);
  const requests = req ? Number(req[1]) : 0;
  return { requests, rps, p50: mean ? ms(mean[1]!, mean[2]!) : NaN, p99: NaN, errors };
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** One wrk run: one thread, `connections` keep-alive connections. */
export async function wrk(path: string, spec: LoadSpec): Promise<LoadResult> {
  const args = ["-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--latency"];
  if (spec.script) args.push("-s", spec.script);
  for (const h of spec.headers ?? []) args.push("-H", h);
  const r = parseWrk(await run(path, [...args, spec.url]));
  if (!Number.isFinite(r.rps)) throw new Error(`wrk gave no figure for ${spec.url}`);
  return r;
}

/** One h2load run: one thread, 10 connections, streams so that `connections` requests are in flight. */
export async function h2load(path: string, spec: LoadSpec): Promise<LoadResult> {
  const streams = Math.max(1, Math.round(spec.connections / 10));
  const args = ["-t1", "-c10", `-m${streams}`, "-D", String(spec.seconds), spec.url];
  const r = parseH2load(await run(path, args));
  if (!Number.isFinite(r.rps)) throw new Error(`h2load gave no figure for ${spec.url}`);
  return r;
}

/** Writes the wrk script for a POST with an `n`-byte body (`chunked`: framed in 4 KiB chunks, no length). */
export async function postScript(dir: string, n: number, chunked = false): Promise<string> {
  const file = `${dir}/post_${n}${chunked ? "_chunked" : ""}.lua`;
  const text = chunked
    // wrk.format would add a content-length: the request is written whole, its body framed by hand.
    ? `local body = ""\nlocal left = ${n}\nwhile left > 0 do\n  local k = math.min(4096, left)\n` +
      `  body = body .. string.format("%x\\r\\n", k) .. string.rep("x", k) .. "\\r\\n"\n  left = left - k\nend\n` +
      `local req\nrequest = function()\n  req = req or "POST " .. wrk.path .. " HTTP/1.1\\r\\nHost: bench\\r\\n` +
      `Content-Type: application/octet-stream\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n" .. body .. "0\\r\\n\\r\\n"\n` +
      `  return req\nend\n`
    : `wrk.method = "POST"\nwrk.body = string.rep("x", ${n})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`;
  await Deno.writeTextFile(file, text);
  return file;
}
