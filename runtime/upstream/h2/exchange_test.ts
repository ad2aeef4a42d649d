import assert from "node:assert/strict";
import { requestHeaders as fieldList } from "./fields.ts";
import { backendAt } from "../_test_utils.ts";
import type { HttpRequest } from "../../http/message.ts";

/** The flat field list as a record (the last value of a name wins), for lookups. */
function requestHeaders(...args: Parameters<typeof fieldList>): Record<string, string> {
  const fields = fieldList(...args);
  const out: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

function request(fields: Record<string, string>): HttpRequest {
  return { method: "GET", target: "/x", headers: new Headers({ host: "example.test", ...fields }), body: null };
}

const HOP = {
  "keep-alive": "timeout=5",
  "proxy-authorization": "Basic dTpw",
  "proxy-authenticate": "Basic",
  trailer: "x-sum",
  "http2-settings": "AAA",
  "transfer-encoding": "chunked",
  connection: "x-trace",
  "x-trace": "1",
};

Deno.test("requestHeaders() applies the upstream's header options over h2", () => {
  const backend = backendAt(1);
  const def = requestHeaders(request(HOP), backend, false);
  for (const name of Object.keys(HOP)) assert.equal(def[name], undefined, name);
  const keepHop = requestHeaders(request(HOP), backend, false, {
    stripHopByHop: false,
    stripNominated: true,
    rejectMalformed: true,
  });
  assert.equal(keepHop["proxy-authorization"], "Basic dTpw");
  assert.equal(keepHop["proxy-authenticate"], "Basic");
  assert.equal(keepHop["trailer"], "x-sum");
  // Forbidden in HTTP/2 whatever the option, and the nominated one still removed.
  for (const name of ["keep-alive", "http2-settings", "transfer-encoding", "connection", "x-trace"]) {
    assert.equal(keepHop[name], undefined, name);
  }
  const keepNominated = requestHeaders(
    request({ connection: "host, x-trace", "x-trace": "1" }),
    backend,
    false,
    { stripHopByHop: true, stripNominated: false, rejectMalformed: true },
  );
  assert.equal(keepNominated["x-trace"], "1");
  assert.throws(() => requestHeaders(request({ connection: "host" }), backend, false), /protected/);
  assert.throws(() => requestHeaders(request({ connection: '"x"' }), backend, false), /invalid token/);
  const lenient = requestHeaders(request({ connection: '"x", x-trace', "x-trace": "1" }), backend, false, {
    stripHopByHop: true,
    stripNominated: true,
    rejectMalformed: false,
  });
  assert.equal(lenient["x-trace"], undefined);
});

Deno.test("requestHeaders() sends each set-cookie once, as its own field, and te: trailers for gRPC", () => {
  const headers = new Headers({ host: "example.test", "content-type": "application/grpc" });
  headers.append("set-cookie", "a=1");
  headers.append("set-cookie", "b=2");
  const fields = fieldList({ method: "POST", target: "/x", headers, body: null }, backendAt(1), false);
  const cookies = fields.filter((_, i) => i % 2 === 1 && fields[i - 1] === "set-cookie");
  assert.deepEqual(cookies, ["a=1", "b=2"]);
  assert.deepEqual(fields.slice(0, 8), [
    ":method",
    "POST",
    ":scheme",
    "http",
    ":authority",
    "example.test",
    ":path",
    "/x",
  ]);
  assert.equal(fields[fields.indexOf("te") + 1], "trailers");
});

Deno.test("requestHeaders() reads the raw fields and makes no Headers for a request that has them", () => {
  const fields = [
    "host",
    "example.test",
    "x-a",
    "1",
    "x-a",
    "2",
    "connection",
    "x-trace",
    "x-trace",
    "t",
    "te",
    "trailers",
  ];
  const req = {
    method: "GET",
    target: "/x",
    fields,
    get headers(): Headers {
      throw new Error("the request's Headers was made");
    },
    body: null,
  } as unknown as HttpRequest;
  const out = fieldList(req, backendAt(1), false);
  assert.deepEqual(out, [
    ":method",
    "GET",
    ":scheme",
    "http",
    ":authority",
    "example.test",
    ":path",
    "/x",
    "x-a",
    "1",
    "x-a",
    "2",
    "te",
    "trailers",
  ]);
});
