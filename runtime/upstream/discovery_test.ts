/**
 * Discovery tests. Plans come from the real compiler.
 *
 * There is no Docker engine on the test machines: docker discovery is tested
 * against a small fake of the Docker Engine API served by `Deno.serve` on a
 * unix socket made for the test. It answers `GET /containers/json` with
 * items shaped like the real ones (`Ports`, `NetworkSettings.Networks`) for
 * the label in `filters`, and streams `GET /events` as newline-separated
 * JSON, as the engine does.
 *
 * DNS: `Deno.resolveDns("localhost")` answers 127.0.0.1 (A) and ::1 (AAAA)
 * here without a DNS server (it reads /etc/hosts), so the real resolver is
 * tested with "localhost"; the rest uses an injected resolver.
 */
import assert from "node:assert/strict";
import { compileSources, type UpstreamPlan } from "../../compiler/mod.ts";
import {
  containerAddrs,
  createDiscovery,
  type DockerContainer,
  resolveHost,
  type Resolver,
  sameBackends,
  toBackend,
} from "./discovery.ts";
import type { Backend } from "./types.ts";

function upstream(body: string): UpstreamPlan {
  const r = compileSources([{ file: "t.toml", text: `[upstreams.u]\n${body}\n` }]);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.plan.upstreams[0]!;
}

function addrs(backends: readonly Backend[]): string[] {
  return backends.map((b) => `${b.addr} ${b.weight}`).sort();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A resolver answering from a mutable table; a missing name fails like NXDOMAIN. */
function fakeResolver(table: Record<string, { A?: string[]; AAAA?: string[] }>) {
  const calls: { name: string; type: string; nameServer?: { ipAddr: string; port: number } }[] = [];
  const resolver: Resolver = (name, type, options) => {
    calls.push({ name, type, ...(options.nameServer ? { nameServer: options.nameServer } : {}) });
    const found = table[name]?.[type];
    if (!found || found.length === 0) return Promise.reject(new Error(`no records found for ${name} ${type}`));
    return Promise.resolve([...found]);
  };
  return { resolver, calls, table };
}

Deno.test("toBackend() brackets IPv6 addresses in addr", () => {
  assert.deepEqual(toBackend("10.0.0.1", 80, 2), { host: "10.0.0.1", port: 80, weight: 2, addr: "10.0.0.1:80" });
  assert.equal(toBackend("2001:db8::1", 443, 1).addr, "[2001:db8::1]:443");
  assert.equal(
    sameBackends([toBackend("a", 1, 1), toBackend("b", 1, 1)], [toBackend("b", 1, 1), toBackend("a", 1, 1)]),
    true,
  );
  assert.equal(sameBackends([toBackend("a", 1, 1)], [toBackend("a", 1, 2)]), false);
});

Deno.test("createDiscovery() static keeps IP literals, dedupes, and drops IPv6 with ipv4_only", async () => {
  const d = createDiscovery(upstream(`addrs = ["10.0.0.1:80", "10.0.0.1:80", "10.0.0.2:81 5", "[::1]:80"]`));
  assert.equal(d.kind, "static");
  assert.deepEqual(addrs(d.backends()), ["10.0.0.1:80 1", "10.0.0.2:81 5", "[::1]:80 1"]);
  await d.ready;
  await d.dispose();
  const v4 = createDiscovery(upstream(`addrs = ["10.0.0.1:80", "[::1]:80"]\nipv4_only = true`));
  assert.deepEqual(addrs(v4.backends()), ["10.0.0.1:80 1"]);
  await v4.dispose();
});

Deno.test("createDiscovery() static resolves host names once", async () => {
  const f = fakeResolver({ "api.internal": { A: ["10.1.0.2", "10.1.0.1"], AAAA: ["fd00::1"] } });
  const changes: Backend[][] = [];
  const d = createDiscovery(
    upstream(`addrs = ["api.internal:8080 3", "10.0.0.9:80"]\ndiscovery = "static"\nupdate_frequency = "10ms"`),
    { resolver: f.resolver, onChange: (b) => changes.push([...b]) },
  );
  try {
    assert.deepEqual(addrs(d.backends()), ["10.0.0.9:80 1"], "IP literals at once");
    await d.ready;
    assert.deepEqual(addrs(d.backends()), ["10.0.0.9:80 1", "10.1.0.1:8080 3", "10.1.0.2:8080 3", "[fd00::1]:8080 3"]);
    assert.equal(changes.length, 1);
    await sleep(60);
    assert.equal(f.calls.length, 2, "A and AAAA once, no refresh timer for static");
  } finally {
    await d.dispose();
  }
});

Deno.test("createDiscovery() dns resolves localhost with Deno.resolveDns", async () => {
  const d = createDiscovery(upstream(`addrs = ["localhost:8080"]`));
  const v4 = createDiscovery(upstream(`addrs = ["localhost:8080"]\nipv4_only = true`));
  try {
    assert.equal(d.kind, "dns");
    await d.ready;
    await v4.ready;
    assert.ok(addrs(d.backends()).includes("127.0.0.1:8080 1"), String(addrs(d.backends())));
    assert.deepEqual(addrs(v4.backends()), ["127.0.0.1:8080 1"]);
  } finally {
    await d.dispose();
    await v4.dispose();
  }
});

Deno.test("createDiscovery() dns re-resolves every update_frequency and reports changes", async () => {
  const f = fakeResolver({ "web.local": { A: ["10.0.0.1"] } });
  const changes: string[][] = [];
  const d = createDiscovery(upstream(`addrs = ["web.local:80"]\nupdate_frequency = "50ms"`), {
    resolver: f.resolver,
    onChange: (b) => changes.push(addrs(b)),
  });
  try {
    await d.ready;
    assert.deepEqual(changes, [["10.0.0.1:80 1"]]);
    f.table["web.local"] = { A: ["10.0.0.2", "10.0.0.1"] };
    await waitFor("the new address", () => changes.length === 2);
    assert.deepEqual(changes[1], ["10.0.0.1:80 1", "10.0.0.2:80 1"]);
    // Same set in another order: no change event.
    f.table["web.local"] = { A: ["10.0.0.1", "10.0.0.2"] };
    const calls = f.calls.length;
    await waitFor("two more lookups", () => f.calls.length >= calls + 4);
    assert.equal(changes.length, 2);
  } finally {
    await d.dispose();
  }
});

Deno.test("createDiscovery() dns keeps the last good addresses of a failing host and reports the failure", async () => {
  const f = fakeResolver({ "a.local": { A: ["10.0.0.1"] }, "b.local": { A: ["10.0.0.2"] } });
  const errors: string[] = [];
  const changes: string[][] = [];
  const d = createDiscovery(upstream(`addrs = ["a.local:80", "b.local:80", "c.local:80"]\nupdate_frequency = "1h"`), {
    resolver: f.resolver,
    onError: (e) => errors.push(e.message),
    onChange: (b) => changes.push(addrs(b)),
  });
  try {
    await d.ready;
    assert.deepEqual(addrs(d.backends()), ["10.0.0.1:80 1", "10.0.0.2:80 1"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /upstream "u".*Cannot resolve "c\.local"/);
    delete f.table["a.local"];
    f.table["b.local"] = { A: ["10.0.0.3"] };
    await d.refresh();
    assert.deepEqual(addrs(d.backends()), ["10.0.0.1:80 1", "10.0.0.3:80 1"], "a keeps its last good address");
    assert.match(errors[1]!, /a\.local.*c\.local|c\.local.*a\.local/);
    assert.equal(changes.length, 2);
  } finally {
    await d.dispose();
  }
});

Deno.test("createDiscovery() dns uses dns_server and the search domains", async () => {
  const f = fakeResolver({ "api.svc.local": { A: ["10.2.0.1"] } });
  const d = createDiscovery(
    upstream(
      `addrs = ["api:80"]\ndiscovery = "dns"\ndns_server = "10.0.0.53, [fd00::53]:5353"\ndns_domain = "corp"\ndns_search = "svc.local"\nipv4_only = true`,
    ),
    { resolver: f.resolver },
  );
  try {
    await d.ready;
    assert.deepEqual(addrs(d.backends()), ["10.2.0.1:80 1"]);
    assert.deepEqual(
      f.calls.map((c) => `${c.name} ${c.type} ${c.nameServer?.ipAddr}:${c.nameServer?.port}`),
      [
        "api A 10.0.0.53:53",
        "api A fd00::53:5353",
        "api.corp A 10.0.0.53:53",
        "api.corp A fd00::53:5353",
        "api.svc.local A 10.0.0.53:53",
      ],
    );
  } finally {
    await d.dispose();
  }
});

Deno.test("resolveHost() rejects when nothing resolves and honours the abort signal", async () => {
  const f = fakeResolver({});
  await assert.rejects(
    resolveHost("nope.local", {
      ipv4Only: false,
      nameServers: [],
      searchDomains: [],
      resolver: f.resolver,
      timeout: 1000,
    }),
    /Cannot resolve "nope\.local": no records found/,
  );
  const ac = new AbortController();
  const hanging: Resolver = (_n, _t, o) =>
    new Promise((_resolve, reject) => o.signal.addEventListener("abort", () => reject(o.signal.reason)));
  const p = resolveHost("x.local", {
    ipv4Only: true,
    nameServers: [],
    searchDomains: [],
    resolver: hanging,
    timeout: 60_000,
    signal: ac.signal,
  });
  ac.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
  await assert.rejects(
    resolveHost("x.local", { ipv4Only: true, nameServers: [], searchDomains: [], resolver: hanging, timeout: 20 }),
    /timed out/,
  );
});

Deno.test("createDiscovery() transparent has no backends", async () => {
  const d = createDiscovery(upstream(`addrs = ["ignored"]\ndiscovery = "transparent"`));
  await d.ready;
  assert.deepEqual(d.backends(), []);
  await d.refresh();
  await d.dispose();
});

/** Items shaped like Docker's `GET /containers/json`. */
function container(
  networks: Record<string, [ip: string, gateway: string]>,
  ports: readonly { PrivatePort?: number; PublicPort?: number }[],
): DockerContainer & Record<string, unknown> {
  return {
    Id: crypto.randomUUID().replaceAll("-", ""),
    Names: ["/web-1"],
    Image: "nginx:alpine",
    State: "running",
    Status: "Up 2 minutes",
    Labels: { "com.docker.compose.service": "web" },
    Ports: ports,
    NetworkSettings: {
      Networks: Object.fromEntries(
        Object.entries(networks).map((
          [name, [ip, gw]],
        ) => [name, { NetworkID: name, IPAddress: ip, Gateway: gw, IPPrefixLen: 16 }]),
      ),
    },
  };
}

/** A fake Docker Engine API on a unix socket. */
function fakeDocker() {
  const path = Deno.makeTempFileSync({ suffix: ".sock" });
  Deno.removeSync(path);
  const state = {
    byLabel: new Map<string, unknown[]>(),
    fail: false,
    listCalls: 0,
    filters: [] as string[],
    eventStreams: new Set<ReadableStreamDefaultController<Uint8Array>>(),
  };
  const server = Deno.serve({ path, onListen() {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/containers/json") {
      state.listCalls++;
      if (state.fail) return Response.json({ message: "engine exploded" }, { status: 500 });
      const filters = JSON.parse(url.searchParams.get("filters") ?? "{}") as { label?: string[] };
      state.filters.push(JSON.stringify(filters));
      return Response.json(state.byLabel.get(filters.label?.[0] ?? "") ?? []);
    }
    if (url.pathname === "/events") {
      let self: ReadableStreamDefaultController<Uint8Array>;
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            self = c;
            state.eventStreams.add(c);
          },
          cancel() {
            state.eventStreams.delete(self);
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    }
    return Response.json({ message: "page not found" }, { status: 404 });
  });
  function emit(action: string): void {
    const line = JSON.stringify({ Type: "container", Action: action, Actor: { ID: "x", Attributes: {} } }) + "\n";
    for (const c of state.eventStreams) c.enqueue(new TextEncoder().encode(line));
  }
  async function close(): Promise<void> {
    for (const c of state.eventStreams) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await server.shutdown();
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  }
  return { path, state, emit, close };
}

Deno.test("containerAddrs() follows Pingap: port given, published port, private port", () => {
  const c = container({ bridge: ["172.17.0.2", "172.17.0.1"], app: ["172.18.0.5", "172.18.0.1"] }, [
    { PrivatePort: 80, PublicPort: 8080 },
  ]);
  assert.deepEqual(containerAddrs(c, 3000), [["172.17.0.2", 3000], ["172.18.0.5", 3000]]);
  assert.deepEqual(containerAddrs(c, undefined), [["172.17.0.1", 8080], ["172.18.0.1", 8080]]);
  const unpublished = container({ bridge: ["172.17.0.3", "172.17.0.1"] }, [{ PrivatePort: 0 }, { PrivatePort: 9000 }]);
  assert.deepEqual(containerAddrs(unpublished, undefined), [["172.17.0.3", 9000]]);
  assert.deepEqual(containerAddrs(container({ bridge: ["172.17.0.4", ""] }, []), undefined), []);
  assert.deepEqual(containerAddrs(container({ host: ["", ""] }, []), 80), []);
});

Deno.test("createDiscovery() docker lists containers by label over the unix socket", async () => {
  const docker = fakeDocker();
  docker.state.byLabel.set("com.docker.compose.service=web", [
    container({ bridge: ["172.17.0.2", "172.17.0.1"] }, [{ PrivatePort: 80, PublicPort: 8080 }]),
    container({ bridge: ["172.17.0.3", "172.17.0.1"] }, [{ PrivatePort: 80 }]),
  ]);
  docker.state.byLabel.set("role=api", [container({ backend: ["172.20.0.7", "172.20.0.1"] }, [])]);
  const d = createDiscovery(
    upstream(`addrs = ["com.docker.compose.service=web 2", "role=api:3000"]\ndiscovery = "docker"`),
    { dockerSocket: docker.path, dockerEvents: false },
  );
  try {
    await d.ready;
    assert.deepEqual(addrs(d.backends()), ["172.17.0.1:8080 2", "172.17.0.3:80 2", "172.20.0.7:3000 1"]);
    assert.deepEqual(docker.state.filters, ['{"label":["com.docker.compose.service=web"]}', '{"label":["role=api"]}']);
  } finally {
    await d.dispose();
    await docker.close();
  }
});

Deno.test("createDiscovery() docker refreshes on container events and keeps the last set on failure", async () => {
  const docker = fakeDocker();
  docker.state.byLabel.set("app=web", [container({ bridge: ["172.17.0.2", "172.17.0.1"] }, [{ PrivatePort: 80 }])]);
  const changes: string[][] = [];
  const errors: string[] = [];
  const d = createDiscovery(upstream(`addrs = ["app=web"]\ndiscovery = "docker"\nupdate_frequency = "1h"`), {
    dockerSocket: docker.path,
    onChange: (b) => changes.push(addrs(b)),
    onError: (e) => errors.push(e.message),
  });
  try {
    await d.ready;
    assert.deepEqual(changes, [["172.17.0.2:80 1"]]);
    await waitFor("the event stream", () => docker.state.eventStreams.size === 1);
    docker.state.byLabel.set("app=web", [
      container({ bridge: ["172.17.0.2", "172.17.0.1"] }, [{ PrivatePort: 80 }]),
      container({ bridge: ["172.17.0.4", "172.17.0.1"] }, [{ PrivatePort: 80 }]),
    ]);
    docker.emit("start");
    docker.emit("health_status: healthy");
    await waitFor("the started container", () => changes.length === 2);
    assert.deepEqual(changes[1], ["172.17.0.2:80 1", "172.17.0.4:80 1"]);

    docker.state.fail = true;
    await d.refresh();
    assert.match(errors.at(-1) ?? "", /Docker discovery of upstream "u" \(app=web\) failed: Docker answered 500/);
    assert.deepEqual(addrs(d.backends()), ["172.17.0.2:80 1", "172.17.0.4:80 1"], "last good set kept");
  } finally {
    await d.dispose();
    await docker.close();
  }
});

Deno.test("createDiscovery() docker reconnects to the event stream when it ends", async () => {
  const docker = fakeDocker();
  const d = createDiscovery(upstream(`addrs = ["app=web"]\ndiscovery = "docker"\nupdate_frequency = "1h"`), {
    dockerSocket: docker.path,
    dockerReconnect: 50,
  });
  try {
    await waitFor("the event stream", () => docker.state.eventStreams.size === 1);
    for (const c of docker.state.eventStreams) c.close();
    docker.state.eventStreams.clear();
    await waitFor("a new event stream", () => docker.state.eventStreams.size === 1);
  } finally {
    await d.dispose();
    await docker.close();
  }
});

Deno.test("createDiscovery() docker without an engine reports the failure", async () => {
  const path = Deno.makeTempFileSync({ suffix: ".sock" });
  Deno.removeSync(path);
  const errors: string[] = [];
  const d = createDiscovery(upstream(`addrs = ["app=web"]\ndiscovery = "docker"`), {
    dockerSocket: path,
    onError: (e) => errors.push(e.message),
  });
  try {
    await d.ready;
    assert.deepEqual(d.backends(), []);
    assert.ok(errors.some((e) => /Docker discovery of upstream "u" \(app=web\) failed/.test(e)), String(errors));
    assert.ok(errors.filter((e) => /Docker events/.test(e)).length <= 1);
  } finally {
    await d.dispose();
  }
});
