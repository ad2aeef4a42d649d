/**
 * The page script of the gRPC-Web browser test (tests/runtime/grpc_web_browser_test.ts), bundled for Chromium with
 * `deno bundle`: Google's `grpc-web` client calls the `test.Echo` service (tests/_support/grpc_echo.ts, JSON messages)
 * on the page's own origin or the one `?api=` names, in text mode (unary, server streaming, an error) and binary mode (unary), and shows what
 * came back as JSON in `<pre id="out" data-done>`.
 *
 * @module
 */
import { GrpcWebClientBase, MethodDescriptor, MethodType, type RpcError } from "grpc-web";

interface Reply {
  message: string;
  meta: string[];
  index?: number;
}

/** The little of the DOM this page uses (the script is checked without the DOM types). */
interface PageDocument {
  getElementById(id: string): { textContent: string | null; setAttribute(name: string, value: string): void } | null;
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Reply;
const Plain = Object as unknown as new (...args: unknown[]) => object;

const echo = new MethodDescriptor("/test.Echo/Echo", MethodType.UNARY, Plain, Plain, encode, decode);
const many = new MethodDescriptor("/test.Echo/Many", MethodType.SERVER_STREAMING, Plain, Plain, encode, decode);
const here = (globalThis as unknown as { location: { origin: string; search: string } }).location;
/** The service's origin: `?api=<origin>` (a cross-origin call, which the `cors` plugin allows), else the page's. */
const base = new URLSearchParams(here.search).get("api") ?? here.origin;

/** A unary call: its reply, or its error's code and message. */
function unary(format: "text" | "binary", request: object): Promise<unknown> {
  const client = new GrpcWebClientBase({ format });
  return new Promise((resolve) => {
    client.rpcCall(`${base}/test.Echo/Echo`, request, { "x-client-meta": format }, echo, (err: RpcError, reply) => {
      resolve(err ? { code: err.code, message: err.message } : reply);
    });
  });
}

/** A server-streaming call: the replies' indexes and the final status code. */
function stream(count: number): Promise<unknown> {
  const client = new GrpcWebClientBase({ format: "text" });
  return new Promise((resolve) => {
    const indexes: (number | undefined)[] = [];
    const call = client.serverStreaming(`${base}/test.Echo/Many`, { message: "s", count }, {}, many);
    call.on("data", (reply) => indexes.push((reply as Reply).index));
    call.on("error", (err) => resolve({ indexes, error: err.code }));
    call.on("status", (status) => {
      if (status.code === 0) resolve({ indexes, status: status.code });
    });
  });
}

const results = {
  textUnary: await unary("text", { message: "hello from chromium" }),
  binaryUnary: await unary("binary", { message: "binary hello" }),
  textStream: await stream(5),
  textError: await unary("text", { message: "nope", fail: true }),
};
const out = (globalThis as unknown as { document: PageDocument }).document.getElementById("out")!;
out.textContent = JSON.stringify(results);
out.setAttribute("data-done", "1");
