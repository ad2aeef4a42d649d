/**
 * Upstream faults: the recording origin misbehaves as the path says
 * (`/c/<id>/fault/<kind>`), behind a 1 s upstream read timeout. Each ends in
 * a 502/504 or a visibly cut body — never a crash, a reused poisoned
 * connection, or a request sent twice.
 *
 * @module
 */
import type { WireCase } from "./case.ts";
import type { WireResult } from "./wire.ts";

type Row = Omit<WireCase, "kind" | "group">;

const get = (path: string, method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: h.test\r\nX-Case: {id}\r\n\r\n`;
const post = (path: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: h.test\r\nX-Case: {id}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** The client saw the body cut short (not a complete-looking response). */
function cut(r: WireResult): string | undefined {
  const first = r.responses[0];
  if (!first) return undefined;
  return first.truncated || !r.closed ? undefined : "the body looked complete although the origin cut it";
}

/** The second response is the client's own (no poison from the previous exchange). */
function ownSecond(r: WireResult): string | undefined {
  const second = r.responses[1];
  if (!second) return undefined;
  if (second.headers["x-poison"]) return "the second client got the poisoned leftover response";
  if (!second.body.startsWith("ok ")) return `the second response is ${JSON.stringify(second.body.slice(0, 40))}`;
  return undefined;
}

function noLeak(marker: string) {
  return (r: WireResult) =>
    r.responses.some((x) => x.body.includes(marker))
      ? `bytes past the framing reached the client (${marker})`
      : undefined;
}

const INVALID_HEAD = "an unparsable response head is a 502 (RFC 9112 §6.3); nginx 1.22 relays it as HTTP/0.9";
const FRAMING_502 = "an invalid Content-Length from the upstream is a 502 (RFC 9112 §6.3 item 5); nginx relays it";
const INTERIM =
  "the 1xx is interim: the final 200 is relayed (RFC 9110 §15.2); nginx 1.22 takes the 1xx as final and loses it";

const FAULTS: readonly [string, Partial<Row>][] = [
  ["reset-head", {}],
  ["reset-body-cl", { check: cut, originRequests: 1 }],
  ["reset-body-chunked", { check: cut, originRequests: 1 }],
  ["stall-head", { timeoutMs: 5000 }],
  ["stall-body", { check: cut, originRequests: 1, timeoutMs: 5000 }],
  ["garbage", { expect: 502, stricter: INVALID_HEAD }],
  ["bad-status", { expect: 502, stricter: INVALID_HEAD }],
  ["bad-status-version", { expect: 502, stricter: "HTTP/9.7 is no version this proxy speaks: 502 (nginx relays it)" }],
  ["status-999", {}],
  ["cl-te", {}],
  ["two-cl", { expect: 502, stricter: FRAMING_502 }],
  ["negative-cl", { expect: 502, stricter: FRAMING_502 }],
  ["1xx-200", { originRequests: 1, expect: 200, stricter: INTERIM }],
  ["103-200", { originRequests: 1, expect: 200, stricter: INTERIM }],
  ["100-200", { originRequests: 1, expect: 200, stricter: INTERIM }],
  ["longer-than-cl", { check: noLeak("SMUGGLED"), originRequests: 1 }],
  ["shorter-then-close", { check: cut, originRequests: 1 }],
  ["http10-no-length", { originRequests: 1 }],
  ["huge-header", {}],
  ["many-headers", { expect: 200, stricter: "laxer: a 20 KB response head fits (nginx's proxy_buffer_size is 4 KB)" }],
  ["bare-lf", {}],
  ["nul-header", {}],
  ["empty", {}],
  ["no-answer-close", {}],
];

/** Every case of the group, in a stable order. */
export function upstreamCases(): WireCase[] {
  const rows: Row[] = [
    { name: "upstream/refused", parts: [get("/refused/c/{id}/")], originRequests: 0, alsoOk: [503] },
    { name: "upstream/refused-post", parts: [post("/refused/c/{id}/", "hello")], originRequests: 0, alsoOk: [503] },
    ...FAULTS.map(([fault, extra]): Row => ({
      name: `upstream/${fault}`,
      parts: [get(`/c/{id}/fault/${fault}`)],
      ...extra,
    })),
    {
      name: "upstream/stall-head-post",
      parts: [post("/c/{id}/fault/stall-head", "hello")],
      originRequests: 1,
      timeoutMs: 5000,
    },
    {
      name: "upstream/post-no-answer-close",
      parts: [post("/c/{id}/fault/no-answer-close", "hello")],
      originRequests: 1,
    },
    {
      name: "upstream/post-reset-head",
      parts: [post("/c/{id}/fault/reset-head", "hello")],
      originRequests: 1,
    },
    // Pool poisoning: the second request rides the same pooled upstream connection unless the proxy closed it.
    {
      name: "pool/extra-response-after",
      parts: [get("/c/{id}/fault/extra-after"), { pause: 300 }, get("/c/{id}/after")],
      check: ownSecond,
      alone: true,
      responses: 2,
      originRequests: 2,
    },
    {
      name: "pool/body-after-head-answer",
      parts: [get("/c/{id}/fault/head-with-body", "HEAD"), { pause: 300 }, get("/c/{id}/after")],
      headResponses: [0],
      check: ownSecond,
      alone: true,
      responses: 2,
      originRequests: 2,
    },
    {
      name: "pool/longer-than-cl-then-get",
      parts: [get("/c/{id}/fault/longer-than-cl"), { pause: 300 }, get("/c/{id}/after")],
      check: (r) => noLeak("SMUGGLED")(r) ?? ownSecond(r),
      alone: true,
      responses: 2,
      originRequests: 2,
    },
    {
      name: "pool/silent-close-then-get",
      parts: [get("/c/{id}/fault/close-after"), { pause: 300 }, get("/c/{id}/after")],
      alone: true,
      responses: 2,
      originRequests: 2,
    },
    {
      name: "pool/silent-close-then-post",
      parts: [get("/c/{id}/fault/close-after"), { pause: 300 }, post("/c/{id}/after", "hello")],
      alone: true,
      responses: 2,
      originRequests: 2,
    },
  ];
  return rows.map((r) => ({ kind: "wire", group: "upstream", ...r }));
}
