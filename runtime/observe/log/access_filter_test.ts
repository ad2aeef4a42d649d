/** The access-log filter function: sampling shares, the conditions, and skip before everything. */
import assert from "node:assert/strict";
import { accessFilter } from "./access_filter.ts";

Deno.test("accessFilter(): sample is an even, exact share of the requests that reach it", () => {
  for (const [share, expected] of [[0.5, 500], [0.25, 250], [0.1, 100], [0.001, 1], [0, 0]] as const) {
    const allows = accessFilter({ sample: share });
    assert.equal(Array.from({ length: 1000 }, () => allows("/", 200, 1)).filter(Boolean).length, expected, `${share}`);
  }
  const allows = accessFilter({ sample: 0.1 });
  const logged = Array.from({ length: 50 }, (_, i) => allows("/", 200, 1) ? i : -1).filter((i) => i >= 0);
  assert.deepEqual(logged, [9, 19, 29, 39, 49]);
});

Deno.test("accessFilter(): min_status and min_latency always log; without sample only they do", () => {
  const errors = accessFilter({ minStatus: 400 });
  assert.deepEqual([404, 502, 200, 304].map((s) => errors("/", s, 900)), [true, true, false, false]);
  const slow = accessFilter({ minLatency: 500 });
  assert.deepEqual([[200, 900], [200, 500], [500, 5]].map(([s, l]) => slow("/", s!, l!)), [true, true, false]);
  const both = accessFilter({ minStatus: 500, minLatency: 500 });
  assert.deepEqual([[500, 5], [200, 900], [404, 5]].map(([s, l]) => both("/", s!, l!)), [true, true, false]);
  // The errors take none of the share.
  const sampled = accessFilter({ minStatus: 500, sample: 0.1 });
  const count = (status: number) => Array.from({ length: 1000 }, () => sampled("/", status, 1)).filter(Boolean).length;
  assert.deepEqual([count(200), count(503), count(200)], [100, 1000, 100]);
});

Deno.test("accessFilter(): skip matches path and query and wins over the conditions", () => {
  const allows = accessFilter({ skip: /^\/(health|ping)$/, minStatus: 500 });
  assert.deepEqual(
    [["/health", 500], ["/ping", 200], ["/healthy", 500], ["/health?full=1", 500]].map(([u, s]) =>
      allows(u as string, s as number, 1)
    ),
    [false, false, true, true],
  );
});
