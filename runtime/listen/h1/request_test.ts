import assert from "node:assert/strict";
import { ClientWatch } from "./request.ts";

Deno.test("ClientWatch calls its listeners once, and not those removed", () => {
  const watch = new ClientWatch();
  const calls: string[] = [];
  const a = () => calls.push("a");
  const b = () => calls.push("b");
  watch.addEventListener("abort", a);
  watch.addEventListener("abort", b);
  watch.removeEventListener("abort", a);
  assert.equal(watch.aborted, false);
  watch.abort(new Error("gone"));
  watch.abort(new Error("again"));
  assert.equal(watch.aborted, true);
  assert.deepEqual(calls, ["b"]);
  // A listener added once the client is gone is never called (an aborted AbortSignal does not fire again either).
  watch.addEventListener("abort", a);
  assert.deepEqual(calls, ["b"]);
});

Deno.test("ClientWatch keeps its listeners' order when the first one is removed", () => {
  const watch = new ClientWatch();
  const calls: string[] = [];
  const [a, b, c] = ["a", "b", "c"].map((name) => () => calls.push(name));
  watch.addEventListener("abort", a!);
  watch.addEventListener("abort", b!);
  watch.addEventListener("abort", c!);
  watch.removeEventListener("abort", a!);
  watch.addEventListener("abort", a!);
  watch.removeEventListener("abort", c!);
  watch.abort(undefined);
  assert.deepEqual(calls, ["b", "a"]);
});

Deno.test("ClientWatch's signal follows it, made before or after the abort", () => {
  const before = new ClientWatch();
  const signal = before.signal;
  let fired = 0;
  signal.addEventListener("abort", () => fired++);
  assert.equal(signal.aborted, false);
  const reason = new DOMException("client closed the connection", "AbortError");
  before.abort(reason);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, reason);
  assert.equal(fired, 1);
  assert.equal(before.signal, signal);

  const after = new ClientWatch();
  after.abort(reason);
  assert.equal(after.signal.aborted, true);
  assert.equal(after.signal.reason, reason);
});

Deno.test("ClientWatch: a listener that throws does not keep the others from running", () => {
  const watch = new ClientWatch();
  let ran = false;
  const reported: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    reported.push(e.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    watch.addEventListener("abort", () => {
      throw new Error("listener failed");
    });
    watch.addEventListener("abort", () => ran = true);
    watch.abort(undefined);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  assert.equal(ran, true);
  assert.equal((reported[0] as Error).message, "listener failed");
});
