/** {@linkcode stickyPick} over a table source: the named backend, replacement, fail_open. */
import assert from "node:assert/strict";
import { backendId, stickyPick, type StickySource } from "./sticky.ts";
import { toBackend } from "./discovery.ts";

const a = toBackend("10.0.0.1", 80, 1), b = toBackend("10.0.0.2", 80, 1);

/** A source over a and b where `down` backends are not able; round robin is "first able in order". */
function source(down: Set<string>, failOpen: boolean): StickySource {
  const all = [a, b];
  return {
    backends: () => all,
    able: (x) => !down.has(x.addr),
    pickAble: (tried) => all.find((x) => !down.has(x.addr) && !tried?.has(x.addr)),
    pick: (tried) => all.find((x) => !down.has(x.addr) && !tried?.has(x.addr)) ?? (failOpen ? all[0] : undefined),
    failOpen,
  };
}

Deno.test("stickyPick(): the named backend without a new cookie; hex in any case, leading zeros optional", () => {
  const s = source(new Set(), false);
  assert.deepEqual(stickyPick(s, "c", backendId(b), undefined), { backend: b, setCookie: undefined });
  assert.deepEqual(stickyPick(s, "c", backendId(b).toUpperCase(), undefined), { backend: b, setCookie: undefined });
  assert.deepEqual(stickyPick(s, "c", undefined, undefined), { backend: a, setCookie: `c=${backendId(a)}` });
  assert.deepEqual(stickyPick(s, "c", "zz", undefined), { backend: a, setCookie: `c=${backendId(a)}` });
});

Deno.test("stickyPick(): a down or already-tried backend is replaced, with a new cookie", () => {
  assert.deepEqual(stickyPick(source(new Set([b.addr]), false), "c", backendId(b), undefined), {
    backend: a,
    setCookie: `c=${backendId(a)}`,
  });
  assert.deepEqual(stickyPick(source(new Set(), false), "c", backendId(b), new Set([b.addr])), {
    backend: a,
    setCookie: `c=${backendId(a)}`,
  });
});

Deno.test("stickyPick(): none able — undefined, or with fail_open the named backend kept", () => {
  const down = new Set([a.addr, b.addr]);
  assert.equal(stickyPick(source(down, false), "c", backendId(b), undefined), undefined);
  assert.deepEqual(stickyPick(source(down, true), "c", backendId(b), undefined), { backend: b, setCookie: undefined });
  assert.deepEqual(stickyPick(source(down, true), "c", undefined, undefined), {
    backend: a,
    setCookie: `c=${backendId(a)}`,
  });
});
