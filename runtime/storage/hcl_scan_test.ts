import assert from "node:assert/strict";
import { scanHcl } from "./hcl_scan.ts";

Deno.test("scanHcl() finds blocks and keys past comments, strings, templates, heredocs and one-line blocks", () => {
  const text = `# server "no" {
/* location "no" { */
server "a" {
  s = "} \${ "}" } %{ if true }{%{ endif }"
  t = <<-EOT
    server "no" {
    EOT
  m = {
    k = [1, { x = "}" }]
  }
  // x = 1
  location "l1" { path = "/" }
  location l2 {
    upstream "u" {
      addrs = ["a"] # }
    }
  }
}
basic {
}
`;
  const body = scanHcl(text);
  assert.deepEqual(body.attrs, []);
  assert.deepEqual(body.blocks.map((b) => [b.kind, b.labels, b.line, b.column]), [
    ["server", ["a"], 3, 1],
    ["basic", [], 19, 1],
  ]);
  const server = body.blocks[0]!;
  assert.deepEqual(server.body.attrs.map((a) => [a.name, a.line, a.column]), [["s", 4, 3], ["t", 5, 3], ["m", 8, 3]]);
  assert.deepEqual(server.body.blocks.map((b) => [b.kind, b.labels, b.line]), [
    ["location", ["l1"], 12],
    ["location", ["l2"], 13],
  ]);
  assert.deepEqual(server.body.blocks[0]!.body.attrs.map((a) => a.name), ["path"]);
  const up = server.body.blocks[1]!.body.blocks[0]!;
  assert.deepEqual([up.kind, up.labels, up.line, up.body.attrs.map((a) => [a.name, a.line])], [
    "upstream",
    ["u"],
    14,
    [["addrs", 15]],
  ]);
  // The span of a block is its own text: it parses alone.
  assert.equal(text.slice(up.start, up.end), `upstream "u" {\n      addrs = ["a"] # }\n    }`);
});

Deno.test("scanHcl() stops without throwing on text it cannot follow", () => {
  assert.deepEqual(scanHcl(`server "a" {\n  = 1\n}`).blocks.length, 1);
  assert.deepEqual(scanHcl(`"x" {`), { attrs: [], blocks: [] });
});
