import assert from "node:assert/strict";
import { scanKdl } from "./kdl_scan.ts";

Deno.test("scanKdl() finds nodes and their children blocks past comments, slashdash, strings and continuations", () => {
  const text = `// server "no" {
/* a /* nested */ { */
server "a" key="}" {
    addr #"raw { "# \\
        more
    text """
        multi {
        """
    /- location "gone" { path "/x" }
    location "b" /-{ hidden 1 } {
        "quoted name" 1; next 2
    }
    empty {}
}
(t)plain
`;
  const nodes = scanKdl(text);
  const shape = (n: ReturnType<typeof scanKdl>[number]): unknown => [
    n.name,
    n.line,
    n.column,
    n.hasBlock,
    n.children.map(shape),
  ];
  assert.deepEqual(nodes.map(shape), [
    ["server", 3, 1, true, [
      ["addr", 4, 5, false, []],
      ["text", 6, 5, false, []],
      ["location", 10, 5, true, [["quoted name", 11, 9, false, []], ["next", 11, 26, false, []]]],
      ["empty", 13, 5, true, []],
    ]],
    ["plain", 15, 4, false, []],
  ]);
});
