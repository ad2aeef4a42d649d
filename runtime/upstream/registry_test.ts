/**
 * Registry tests: plans from the real compiler, a fake client factory
 * (the HTTP client is another module), real health-check targets (a
 * Deno.serve origin, a closed port).
 */
import assert from "node:assert/strict";
import { compileSources, type UpstreamPlan } from "../../compiler/mod.ts";
import type { Resolver } from "./discovery.ts";
import { connectOptions, UpstreamRegistry } from "./registry.ts";
import type { Backend, ConnectOptions, UpstreamClient } from "./types.ts";
import { closedPort, delay as sleep, waitFor } from "./_test_utils.ts";

function upstreams(text: string): UpstreamPlan[] {
  const r = compileSources([{ file: "t.toml", text }]);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return [...r.plan.upstreams];
}

function upstream(body: string, name = "u"): UpstreamPlan {
  return upstreams(`[upstreams.${name}]\n${body}\n`)[0]!;
}

/** A client factory that records what it was asked. */
function fakeClients() {
  const made: { options: ConnectOptions; plan: string; closed: boolean; pruned: string[][] }[] = [];
  function createClient(options: ConnectOptions, plan: UpstreamPlan): UpstreamClient {
    const record = { options, plan: plan.name, closed: false, pruned: [] as string[][] };
    made.push(record);
    return {
      request: () => Promise.reject(new Error("not used")),
      prune: (keep) => void record.pruned.push([...keep].sort()),
      close: () => void (record.closed = true),
    };
  }
  return { made, createClient };
}

/** An origin counting /health hits. */
function origin() {
  const state = { hits: 0, status: 200 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    state.hits++;
    return new Response("ok", { status: state.status });
  });
  return { state, server, port: server.addr.port };
}

Deno.test("UpstreamRegistry acquire/acquire/release keeps the state; release to zero disposes it", async () => {
  const o = origin();
  const clients = fakeClients();
  const registry = new UpstreamRegistry({ createClient: clients.createClient });
  const plan = upstream(`addrs = ["127.0.0.1:${o.port}"]\nhealth_check = "http://u/health?check_frequency=50ms"`);
  try {
    const a = registry.acquire(plan);
    await a.ready;
    const b = registry.acquire(plan);
    assert.equal(a, b);
    assert.equal(registry.refs(plan.key), 2);
    await registry.release(plan.key);
    assert.equal(registry.get(plan.key), a);
    assert.equal(a.disposed, false);
    assert.equal(clients.made.length, 1);
    assert.equal(clients.made[0]!.closed, false);
    const hits = o.state.hits;
    await waitFor("health checks to go on", () => o.state.hits >= hits + 2);

    await registry.release(plan.key);
    assert.equal(a.disposed, true);
    assert.equal(registry.get(plan.key), undefined);
    assert.equal(clients.made[0]!.closed, true);
    const after = o.state.hits;
    await sleep(200);
    assert.equal(o.state.hits, after, "timers stopped");
    await registry.release(plan.key); // unknown key: no-op
  } finally {
    await registry.dispose();
    await o.server.shutdown();
  }
});

Deno.test("UpstreamRegistry a plan swap keeps unchanged upstreams and replaces changed ones", async () => {
  const clients = fakeClients();
  const registry = new UpstreamRegistry({ createClient: clients.createClient });
  const v1 = upstreams(`
[upstreams.same]
addrs = ["10.0.0.1:80"]
[upstreams.changed]
addrs = ["10.0.0.2:80"]
`);
  const v2 = upstreams(`
[upstreams.same]
addrs = ["10.0.0.1:80"]
[upstreams.changed]
addrs = ["10.0.0.3:80"]
`);
  try {
    assert.equal(v1[0]!.key, v2[0]!.key);
    assert.notEqual(v1[1]!.key, v2[1]!.key);
    const old = v1.map((p) => registry.acquire(p));
    // Swap: the new plan acquires first, then the old one releases.
    const next = v2.map((p) => registry.acquire(p));
    await Promise.all(v1.map((p) => registry.release(p.key)));
    assert.equal(next[0], old[0]);
    assert.equal(next[0]!.disposed, false);
    assert.notEqual(next[1], old[1]);
    assert.equal(old[1]!.disposed, true);
    assert.deepEqual(next[1]!.backends().map((b) => b.addr), ["10.0.0.3:80"]);
    assert.deepEqual(registry.keys().sort(), v2.map((p) => p.key).sort());
    assert.deepEqual(clients.made.map((c) => `${c.plan} ${c.closed}`), ["same false", "changed true", "changed false"]);
  } finally {
    await registry.dispose();
  }
  assert.ok(clients.made.every((c) => c.closed));
});

Deno.test("UpstreamRegistry pick skips unhealthy backends and reports status changes", async () => {
  const o = origin();
  const closed = closedPort();
  const events: string[] = [];
  const registry = new UpstreamRegistry({
    createClient: fakeClients().createClient,
    onBackendStatus: (name, b, healthy) => events.push(`${name} ${b.addr} ${healthy}`),
  });
  const plan = upstream(
    `addrs = ["127.0.0.1:${o.port}", "127.0.0.1:${closed}"]\nhealth_check = "tcp://u?check_frequency=1h&failure=1"`,
  );
  try {
    const s = registry.acquire(plan);
    assert.equal(s.health?.isHealthy(`127.0.0.1:${closed}`), true, "healthy until checked");
    await s.ready; // discovery, then one health round
    assert.deepEqual(events, [`u 127.0.0.1:${closed} false`]);
    for (let i = 0; i < 10; i++) assert.equal(s.pick(undefined)?.addr, `127.0.0.1:${o.port}`);
    assert.equal(s.pick(undefined, new Set([`127.0.0.1:${o.port}`])), undefined);
  } finally {
    await registry.dispose();
    await o.server.shutdown();
  }
});

Deno.test("UpstreamRegistry end() feeds the circuit breaker; begin/end count in-flight", async () => {
  const t = { now: 1_000_000 };
  const changes: string[] = [];
  const registry = new UpstreamRegistry({
    createClient: fakeClients().createClient,
    now: () => t.now,
    onCircuitChange: (name, addr, from, to) => changes.push(`${name} ${addr} ${from}->${to}`),
  });
  const plan = upstream(`addrs = ["10.0.0.1:80", "10.0.0.2:80"]
algo = "least_conn"
enable_backend_stats = true
circuit_break_max_consecutive_failures = 2
circuit_break_half_open_consecutive_success_threshold = 1
circuit_break_open_duration = "10s"
health_check = "tcp://u?check_frequency=1h"`);
  try {
    const s = registry.acquire(plan);
    const a: Backend = s.backends()[0]!;
    s.begin(a);
    assert.equal(s.processing, 1);
    assert.equal(s.pick(undefined)?.addr, "10.0.0.2:80", "least_conn avoids the busy one");
    s.end(a, 502);
    s.begin(a);
    s.end(a, undefined);
    assert.equal(s.processing, 0);
    assert.deepEqual(changes, ["u 10.0.0.1:80 closed->open"]);
    for (let i = 0; i < 5; i++) assert.equal(s.pick(undefined)?.addr, "10.0.0.2:80");
    t.now += 10_000;
    const seen = new Set(Array.from({ length: 4 }, () => s.pick(undefined)?.addr));
    assert.ok(seen.has("10.0.0.1:80"), "a probe goes through after the open duration");
    s.end(a, 200);
    assert.equal(changes.at(-1), "u 10.0.0.1:80 half-open->closed");
    assert.equal(s.circuits.snapshot().get("10.0.0.1:80")?.state, "closed");
  } finally {
    await registry.dispose();
  }
});

Deno.test("UpstreamRegistry follows discovery changes: balancer, health, circuits and pool", async () => {
  const table: Record<string, string[]> = { "web.local": ["10.0.0.1"] };
  const resolver: Resolver = (name, type) =>
    type === "A" && table[name] ? Promise.resolve([...table[name]!]) : Promise.reject(new Error("no records found"));
  const clients = fakeClients();
  const failures: string[] = [];
  const registry = new UpstreamRegistry({
    createClient: clients.createClient,
    discovery: { resolver },
    onDiscoverFail: (name, e) => failures.push(`${name}: ${e.message}`),
  });
  const plan = upstream(
    `addrs = ["web.local:8080", "gone.local:8080"]\nupdate_frequency = "50ms"\nhealth_check = "tcp://u?check_frequency=1h"`,
  );
  try {
    const s = registry.acquire(plan);
    await s.discovery.ready;
    assert.deepEqual(s.backends().map((b) => b.addr), ["10.0.0.1:8080"]);
    assert.match(failures[0] ?? "", /^u: .*gone\.local/);
    table["web.local"] = ["10.0.0.1", "10.0.0.2"];
    await waitFor("the second backend", () => s.backends().length === 2);
    assert.deepEqual(s.health!.snapshot().map((h) => h.backend.addr).sort(), ["10.0.0.1:8080", "10.0.0.2:8080"]);
    assert.deepEqual(clients.made[0]!.pruned.at(-1), ["10.0.0.1:8080", "10.0.0.2:8080"]);
    const picked = new Set(Array.from({ length: 4 }, () => s.pick(undefined)?.addr));
    assert.equal(picked.size, 2);
  } finally {
    await registry.dispose();
  }
});

Deno.test("UpstreamRegistry transparent upstreams have no health checker and pick nothing", async () => {
  const registry = new UpstreamRegistry({ createClient: fakeClients().createClient });
  try {
    const s = registry.acquire(upstream(`addrs = ["x"]\ndiscovery = "transparent"\nsni = "$host"`));
    await s.ready;
    assert.equal(s.health, undefined);
    assert.equal(s.pick(undefined), undefined);
  } finally {
    await registry.dispose();
  }
});

Deno.test("connectOptions() maps the upstream keys", () => {
  const o = connectOptions(
    upstream(`addrs = ["10.0.0.1"]
sni = "api.example.com"
verify_cert = false
connection_timeout = "5s"
total_connection_timeout = "10s"
read_timeout = "3s"
write_timeout = "4s"
idle_timeout = "30s"`),
    16,
  );
  assert.deepEqual(o, {
    tls: true,
    sni: "api.example.com",
    verifyCert: false,
    connectionTimeout: 5000,
    totalConnectionTimeout: 10_000,
    readTimeout: 3000,
    writeTimeout: 4000,
    idleTimeout: 30_000,
    poolSize: 16,
  });
  assert.deepEqual(connectOptions(upstream(`addrs = ["10.0.0.1"]`)), {
    tls: false,
    verifyCert: true,
    idleTimeout: 60_000,
    poolSize: 128,
  });
});

Deno.test("UpstreamRegistry release with a grace period drains the client; dispose() cuts what still drains", async () => {
  const calls: string[] = [];
  let finish: (() => void) | undefined;
  const createClient = (): UpstreamClient => ({
    request: () => Promise.reject(new Error("not used")),
    prune: () => {},
    close: () => {
      calls.push("close");
      finish?.();
    },
    drain: (graceMs: number) => {
      calls.push(`drain ${graceMs}`);
      return new Promise<void>((resolve) => finish = resolve);
    },
  });
  const registry = new UpstreamRegistry({ createClient });
  const plan = upstream(`addrs = ["127.0.0.1:${closedPort()}"]`);
  try {
    registry.acquire(plan);
    registry.acquire(plan);
    await registry.release(plan.key, 5_000);
    assert.deepEqual(calls, [], "still held by the other plan: no drain");
    let released = false;
    const releasing = registry.release(plan.key, 5_000).then(() => released = true);
    assert.deepEqual(calls, ["drain 5000"], "the last holder's release drains for the grace period");
    assert.equal(registry.get(plan.key), undefined, "a new plan with this key gets a fresh state");
    await sleep(50);
    assert.equal(released, false, "the release waits for the exchanges in flight");
    await registry.dispose();
    await releasing;
    assert.deepEqual(calls, ["drain 5000", "close"], "a stop cuts what still drains");
  } finally {
    await registry.dispose();
  }
});
