import assert from "node:assert/strict";
import { diffLines, itemText } from "./diff.js";

Deno.test("diffLines: removed before added, unchanged kept; itemText sorts keys", () => {
  assert.deepEqual(diffLines("a\nb\nc", "a\nx\nc"), [[" ", "a"], ["-", "b"], ["+", "x"], [" ", "c"]]);
  assert.deepEqual(diffLines("", "a"), [["+", "a"]]);
  assert.deepEqual(diffLines("a", ""), [["-", "a"]]);
  assert.equal(itemText({ b: 1, a: { d: 2, c: 3 } }), itemText({ a: { c: 3, d: 2 }, b: 1 }));
  assert.equal(itemText(null), "");
});
