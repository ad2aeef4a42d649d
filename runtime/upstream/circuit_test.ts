import assert from "node:assert/strict";
import { compileSources } from "../../compiler/mod.ts";
import { BackendCircuit, CIRCUIT_STATE_CODE, type CircuitOptions, CircuitSet, SlidingCounter } from "./circuit.ts";

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

function options(over: Partial<CircuitOptions> = {}): CircuitOptions {
  return {
    statsInterval: 60_000,
    failureStatuses: new Set(),
    maxConsecutiveFailures: 0,
    maxFailurePercent: 0,
    minRequests: 10,
    halfOpenSuccesses: 5,
    openDuration: 10_000,
    ...over,
  };
}

/** Trips a breaker configured with maxConsecutiveFailures = n. */
function trip(c: BackendCircuit, n: number): void {
  for (let i = 0; i < n; i++) c.onResponse(502);
  assert.equal(c.state, "open");
}

/** The circuit settings the compiler resolves for an upstream with these keys. */
function circuitOf(keys: string): CircuitOptions | undefined {
  const r = compileSources([{ file: "a.toml", text: `[upstreams.u]\naddrs = ["127.0.0.1:1"]\n${keys}\n` }]);
  assert.ok(r.plan, JSON.stringify(r.diagnostics));
  return r.plan.upstreams[0]!.circuit;
}

Deno.test("the plan's circuit settings read the upstream keys with their defaults", () => {
  assert.equal(circuitOf("enable_backend_stats = false"), undefined);
  const o = circuitOf(
    'enable_backend_stats = true\nbackend_failure_status_code = "502, 503"\ncircuit_break_max_failure_percent = 50',
  )!;
  assert.deepEqual([...o.failureStatuses], [502, 503]);
  assert.equal(o.statsInterval, 60_000);
  assert.equal(o.maxConsecutiveFailures, 0);
  assert.equal(o.maxFailurePercent, 50);
  assert.equal(o.minRequests, 10);
  assert.equal(o.halfOpenSuccesses, 5);
  assert.equal(o.openDuration, 10_000);
});

Deno.test("CircuitSet a fresh backend is acceptable, one state per address (vector 58)", () => {
  const set = new CircuitSet(options({ maxConsecutiveFailures: 1 }));
  assert.equal(set.accept("127.0.0.1:8080"), true);
  assert.equal(set.accept("[2001:db8::1]:443"), true);
  set.report("127.0.0.1:8080", 500);
  assert.equal(set.get("127.0.0.1:8080")!.state, "open");
  assert.equal(set.get("[2001:db8::1]:443")!.state, "closed");
  assert.equal(set.accept("127.0.0.1:8080"), false);
  assert.equal(set.accept("[2001:db8::1]:443"), true);
  set.prune(new Set(["[2001:db8::1]:443"]));
  assert.equal(set.accept("127.0.0.1:8080"), true);
  assert.deepEqual([...set.snapshot().keys()], ["[2001:db8::1]:443"]);
});

Deno.test("CircuitSet with stats off accepts everything and counts nothing", () => {
  const set = new CircuitSet(undefined);
  assert.equal(set.enabled, false);
  for (let i = 0; i < 100; i++) set.report("a:80", undefined);
  assert.equal(set.accept("a:80"), true);
  assert.equal(set.get("a:80"), undefined);
  assert.equal(set.snapshot().size, 0);
});

Deno.test("BackendCircuit closed -> open after max consecutive failures", () => {
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 3 }));
  c.onResponse(500);
  c.onResponse(503);
  c.onResponse(200); // resets the run
  c.onResponse(500);
  c.onFailure();
  assert.equal(c.state, "closed");
  c.onResponse(500);
  assert.equal(c.state, "open");
  assert.equal(CIRCUIT_STATE_CODE[c.state], 1);
});

Deno.test("BackendCircuit closed -> open when failure% reaches the limit after min requests", () => {
  const c = new BackendCircuit(options({ maxFailurePercent: 50, minRequests: 10 }), { now: clock().now });
  for (let i = 0; i < 5; i++) c.onResponse(200);
  for (let i = 0; i < 4; i++) c.onResponse(500);
  assert.equal(c.state, "closed"); // 9 requests: below min
  c.onResponse(500); // 10 requests, 50%
  assert.equal(c.state, "open");
});

Deno.test("BackendCircuit closed stays closed under the failure% limit and without enough requests", () => {
  const c = new BackendCircuit(options({ maxFailurePercent: 50, minRequests: 10 }), { now: clock().now });
  for (let i = 0; i < 9; i++) c.onResponse(500); // 100% but only 9
  assert.equal(c.state, "closed");
  const d = new BackendCircuit(options({ maxFailurePercent: 50, minRequests: 10 }), { now: clock().now });
  for (let i = 0; i < 20; i++) d.onResponse(200);
  for (let i = 0; i < 19; i++) d.onResponse(500); // 19/39 < 50%
  assert.equal(d.state, "closed");
});

Deno.test("BackendCircuit a rule set to 0 is off (no trip on any failure once min requests is reached)", () => {
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 3, minRequests: 2 }));
  for (let i = 0; i < 20; i++) c.onResponse(200);
  c.onResponse(500);
  c.onResponse(200);
  c.onResponse(500);
  assert.equal(c.state, "closed");
});

Deno.test("BackendCircuit open rejects selection before open_until", () => {
  const t = clock();
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 2, openDuration: 10_000 }), { now: t.now });
  trip(c, 2);
  assert.equal(c.accept(), false);
  t.t += 9_999;
  assert.equal(c.accept(), false);
  assert.equal(c.state, "open");
});

Deno.test("BackendCircuit open -> half-open on selection after open_until; it is probe #1", () => {
  const t = clock();
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 2, halfOpenSuccesses: 3 }), { now: t.now });
  trip(c, 2);
  t.t += 10_000;
  assert.equal(c.accept(), true);
  assert.equal(c.state, "half-open");
  assert.equal(CIRCUIT_STATE_CODE[c.state], 2);
  // Two more probes fit the budget of 3, then selection is rejected.
  assert.equal(c.accept(), true);
  assert.equal(c.accept(), true);
  assert.equal(c.accept(), false);
  assert.equal(c.accept(), false);
});

Deno.test("BackendCircuit half-open -> closed after the threshold of consecutive successes", () => {
  const t = clock();
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 2, halfOpenSuccesses: 3 }), { now: t.now });
  trip(c, 2);
  t.t += 10_000;
  for (let i = 0; i < 3; i++) assert.equal(c.accept(), true);
  c.onResponse(200);
  c.onResponse(204);
  assert.equal(c.state, "half-open");
  c.onResponse(404); // not a failure: 4xx
  assert.equal(c.state, "closed");
  assert.equal(c.accept(), true);
  assert.equal(CIRCUIT_STATE_CODE[c.state], 0);
});

Deno.test("BackendCircuit half-open -> open on a failure, with a new open_until", () => {
  const t = clock();
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 2, halfOpenSuccesses: 3 }), { now: t.now });
  trip(c, 2);
  t.t += 10_000;
  assert.equal(c.accept(), true);
  c.onResponse(200);
  c.onFailure(); // a transport failure
  assert.equal(c.state, "open");
  t.t += 9_000;
  assert.equal(c.accept(), false);
  t.t += 1_000;
  assert.equal(c.accept(), true);
  assert.equal(c.state, "half-open");
});

Deno.test("BackendCircuit half-open starts a new probe round when probes never report back", () => {
  const t = clock();
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 1, halfOpenSuccesses: 2 }), { now: t.now });
  trip(c, 1);
  t.t += 10_000;
  assert.equal(c.accept(), true);
  assert.equal(c.accept(), true);
  assert.equal(c.accept(), false);
  t.t += 9_999;
  assert.equal(c.accept(), false);
  t.t += 1;
  assert.equal(c.accept(), true);
  assert.equal(c.state, "half-open");
});

Deno.test("BackendCircuit open ignores late outcomes of requests sent before the trip", () => {
  const t = clock();
  const c = new BackendCircuit(options({ maxConsecutiveFailures: 1, halfOpenSuccesses: 1 }), { now: t.now });
  trip(c, 1);
  for (let i = 0; i < 5; i++) c.onResponse(200);
  c.onResponse(500);
  assert.equal(c.state, "open");
  t.t += 10_000;
  assert.equal(c.accept(), true); // not extended by the late failure
});

Deno.test("BackendCircuit reports each transition to onChange", () => {
  const t = clock();
  const seen: string[] = [];
  const set = new CircuitSet(options({ maxConsecutiveFailures: 1, halfOpenSuccesses: 1 }), {
    now: t.now,
    onChange: (addr, from, to) => seen.push(`${addr} ${from}->${to}`),
  });
  set.report("a:80", undefined);
  t.t += 10_000;
  set.accept("a:80");
  set.report("a:80", 200);
  assert.deepEqual(seen, ["a:80 closed->open", "a:80 open->half-open", "a:80 half-open->closed"]);
});

Deno.test("BackendCircuit counts the configured failure statuses instead of 5xx", () => {
  const c = new BackendCircuit(options({ failureStatuses: new Set([429, 502]), maxConsecutiveFailures: 2 }));
  assert.equal(c.isFailure(500), false);
  assert.equal(c.isFailure(429), true);
  c.onResponse(500);
  c.onResponse(503);
  assert.equal(c.state, "closed");
  c.onResponse(429);
  c.onResponse(502);
  assert.equal(c.state, "open");
});

Deno.test("BackendCircuit without a breaker rule keeps stats but never trips", () => {
  const t = clock();
  const c = new BackendCircuit(options({ statsInterval: 10_000 }), { now: t.now });
  for (let i = 0; i < 30; i++) c.onResponse(500);
  for (let i = 0; i < 10; i++) c.onResponse(200);
  assert.equal(c.state, "closed");
  const s = c.stats();
  assert.equal(s.total, 40);
  assert.equal(s.failures, 30);
  assert.equal(s.rps, 4);
  assert.equal(s.failureRatePercent, 75);
  assert.equal(s.consecutiveSuccesses, 10);
  assert.equal(s.consecutiveFailures, 0);
});

Deno.test("BackendCircuit failures age out of the window, so a recovered backend is not reopened by one failure", () => {
  const t = clock();
  const c = new BackendCircuit(
    options({
      statsInterval: 10_000,
      maxFailurePercent: 50,
      minRequests: 10,
      halfOpenSuccesses: 1,
      openDuration: 1_000,
    }),
    { now: t.now },
  );
  for (let i = 0; i < 10; i++) c.onResponse(500);
  assert.equal(c.state, "open");
  t.t += 1_000;
  assert.equal(c.accept(), true);
  c.onResponse(200);
  assert.equal(c.state, "closed");
  t.t += 25_000; // the bad window has left
  for (let i = 0; i < 19; i++) c.onResponse(200);
  c.onResponse(500);
  assert.equal(c.state, "closed");
  assert.equal(c.stats().failureRatePercent, 5);
});

Deno.test("SlidingCounter blends the previous window by the part still inside", () => {
  const c = new SlidingCounter(1000, 0);
  for (let i = 0; i < 10; i++) c.add(100);
  assert.equal(c.value(999), 10);
  assert.equal(c.value(1000), 10); // new window: previous fully inside
  assert.equal(c.value(1250), 7.5);
  c.add(1500);
  assert.equal(c.value(1500), 6);
  assert.equal(c.value(2000), 1); // previous is now [1000,2000): 1 event
  assert.equal(c.value(5000), 0);
  c.add(5100);
  assert.equal(c.value(5100), 1);
});
