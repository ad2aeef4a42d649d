/**
 * `srv` discovery against a real DNS server: `npm:dns2` listening on a local
 * UDP port, answering SRV and A questions from a table the test changes,
 * asked by the real resolver (`Deno.resolveDns` with `nameServer`). The
 * server can be told to stay silent, which the resolver sees as a timeout.
 */
import assert from "node:assert/strict";
import dns2Module from "dns2";
import { compileSources, formatPath, type UpstreamPlan } from "../../compiler/mod.ts";
import { createDiscovery } from "./discovery.ts";
import { normalizeWeights, pickSrvTargets } from "./srv.ts";
import type { Backend } from "./types.ts";

type Srv = { priority: number; weight: number; port: number; target: string };
interface Zone {
  srv: Record<string, Srv[]>;
  a: Record<string, string[]>;
  /** Answer nothing at all (the client times out). */
  silent: boolean;
}

/** A DNS server on 127.0.0.1:<port> answering from `zone`; NXDOMAIN for names it does not know. */
async function dnsServer(zone: Zone) {
  // Its typings want class instances for answers; it encodes plain objects.
  // deno-lint-ignore no-explicit-any
  const dns2 = dns2Module as any;
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    // deno-lint-ignore no-explicit-any
    handle: (request: any, send: (r: unknown) => void) => {
      if (zone.silent) return;
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0] as { name: string; type: number };
      const base = { name: q.name, class: Packet.CLASS.IN, ttl: 30 };
      if (q.type === Packet.TYPE.SRV && zone.srv[q.name]) {
        for (const r of zone.srv[q.name]!) response.answers.push({ ...base, type: Packet.TYPE.SRV, ...r });
      } else if (q.type === Packet.TYPE.A && zone.a[q.name]) {
        for (const address of zone.a[q.name]!) response.answers.push({ ...base, type: Packet.TYPE.A, address });
      } else if (!zone.srv[q.name] && !zone.a[q.name]) response.header.rcode = 3; // NXDOMAIN
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: "127.0.0.1", type: "udp4" } });
  const port = (server.addresses() as { udp: { port: number } }).udp.port;
  return { port, close: () => server.close() };
}

function upstream(body: string): UpstreamPlan {
  const r = compileSources([{ file: "t.toml", text: `[upstreams.u]\n${body}\n` }]);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.plan.upstreams[0]!;
}

const addrs = (backends: readonly Backend[]) => backends.map((b) => `${b.addr} ${b.weight}`).sort();

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("normalizeWeights() divides by the common divisor and caps the largest at 256", () => {
  assert.deepEqual(normalizeWeights([50, 50]), [1, 1]);
  assert.deepEqual(normalizeWeights([20, 60]), [1, 3]);
  assert.deepEqual(normalizeWeights([1, 65535]), [1, 256]);
  assert.deepEqual(normalizeWeights([3, 5]), [3, 5]);
});

Deno.test("pickSrvTargets() keeps the lowest priority, drops '.', counts weight 0 as 1", () => {
  const picked = pickSrvTargets([
    { priority: 20, weight: 9, port: 1, target: "spare.test." },
    { priority: 10, weight: 0, port: 8080, target: "a.test." },
    { priority: 10, weight: 2, port: 8081, target: "b.test." },
    { priority: 5, weight: 1, port: 9, target: "." },
  ]);
  assert.deepEqual(picked, [
    { target: "a.test", port: 8080, weight: 1 },
    { target: "b.test", port: 8081, weight: 2 },
  ]);
});

Deno.test("srv discovery: real DNS server, priorities, weights, ports, refresh and failures", async () => {
  const zone: Zone = {
    srv: {
      "_http._tcp.api.test": [
        { priority: 10, weight: 20, port: 8080, target: "a.test" },
        { priority: 10, weight: 60, port: 8081, target: "b.test" },
        { priority: 20, weight: 100, port: 9000, target: "spare.test" },
      ],
    },
    a: { "a.test": ["127.0.0.7"], "b.test": ["127.0.0.8", "127.0.0.9"], "spare.test": ["127.0.0.10"] },
    silent: false,
  };
  const server = await dnsServer(zone);
  const errors: string[] = [];
  const changes: string[][] = [];
  const plan = upstream(
    `addrs = ["_http._tcp.api.test"]\ndiscovery = "srv"\nipv4_only = true\n` +
      `dns_server = "127.0.0.1:${server.port}"\nupdate_frequency = "1h"`,
  );
  const d = createDiscovery(plan, {
    timeout: 500,
    onError: (e) => errors.push(e.message),
    onChange: (b) => changes.push(addrs(b)),
  });
  try {
    await d.ready;
    assert.deepEqual(errors, []);
    assert.deepEqual(addrs(d.backends()), ["127.0.0.7:8080 1", "127.0.0.8:8081 3", "127.0.0.9:8081 3"]);

    // The records change: a new target, another port.
    zone.srv["_http._tcp.api.test"] = [{ priority: 10, weight: 5, port: 7000, target: "a.test" }];
    await d.refresh();
    assert.deepEqual(addrs(d.backends()), ["127.0.0.7:7000 1"]);
    assert.equal(changes.length, 2);

    // The server stops answering: the last good set stays, and the failure is reported.
    zone.silent = true;
    await d.refresh();
    assert.deepEqual(addrs(d.backends()), ["127.0.0.7:7000 1"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /SRV discovery of upstream "u" failed: SRV lookup of "_http\._tcp\.api\.test" failed/);

    // The name is gone (NXDOMAIN): its backends go too.
    zone.silent = false;
    delete zone.srv["_http._tcp.api.test"];
    await d.refresh();
    assert.deepEqual(d.backends(), []);
    assert.equal(errors.length, 2);
  } finally {
    await d.dispose();
    await server.close();
  }
});

Deno.test("srv discovery refreshes on update_frequency", async () => {
  const zone: Zone = {
    srv: { "_web._tcp.test": [{ priority: 1, weight: 1, port: 81, target: "a.test" }] },
    a: { "a.test": ["127.0.0.7"] },
    silent: false,
  };
  const server = await dnsServer(zone);
  const plan = upstream(
    `addrs = ["_web._tcp.test"]\ndiscovery = "srv"\nipv4_only = true\n` +
      `dns_server = "127.0.0.1:${server.port}"\nupdate_frequency = "50ms"`,
  );
  const d = createDiscovery(plan, { timeout: 500 });
  try {
    await d.ready;
    assert.deepEqual(addrs(d.backends()), ["127.0.0.7:81 1"]);
    zone.srv["_web._tcp.test"] = [{ priority: 1, weight: 1, port: 82, target: "a.test" }];
    await waitFor("the new port", () => addrs(d.backends())[0] === "127.0.0.7:82 1");
  } finally {
    await d.dispose();
    await server.close();
  }
});

Deno.test("check: srv compiles; update_frequency 0 is an error; a port or weight on an SRV name is a warning", () => {
  const compile = (body: string) => compileSources([{ file: "t.toml", text: `[upstreams.u]\n${body}\n` }]);
  const ok = compile(`addrs = ["_http._tcp.api.internal"]\ndiscovery = "srv"`);
  assert.equal(ok.plan?.upstreams[0]?.discovery, "srv");
  assert.deepEqual(ok.diagnostics.filter((x) => x.code !== "unused"), []);
  const zero = compile(`addrs = ["_http._tcp.api.internal"]\ndiscovery = "srv"\nupdate_frequency = "0s"`);
  const err = zero.diagnostics.find((x) => x.severity === "error")!;
  assert.equal(formatPath(err.path), "upstreams.u.update_frequency");
  assert.match(err.message, /greater than 0 for srv discovery/);
  const port = compile(`addrs = ["_http._tcp.api.internal:80 3"]\ndiscovery = "srv"`);
  assert.ok(port.plan);
  const w = port.diagnostics.find((x) => x.code === "ignored")!;
  assert.equal(formatPath(w.path), "upstreams.u.addrs[0]");
  assert.match(w.message, /come from the SRV records/);
});
