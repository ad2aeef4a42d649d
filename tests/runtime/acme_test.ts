/**
 * ACME end to end against a real Pebble and pebble-challtestsrv (Debian
 * `pebble`), started per test on free ports: http-01 answered by the
 * proxy's plain-HTTP listener, dns-01 through challtestsrv, a restart of
 * the real CLI that reuses the stored certificate, renewal of a
 * short-lived certificate, and a failing order that is retried and
 * reported to a webhook. Issued certificates are checked with
 * `openssl verify` against Pebble's root and intermediate.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { compileToml, startTestProxy } from "../_support/proxy.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { freePort } from "../_support/origin.ts";
import { type Pebble, pebbleBins, startPebble } from "../_support/pebble.ts";
import {
  createAcmeManager,
  fileStorage,
  handOverCertificate,
  type IssuedCertificate,
  parseStoredCertificate,
  trustAcmeRoots,
} from "../../runtime/acme/mod.ts";
import { manualProvider } from "../../runtime/acme/dns/manual.ts";
import { createNotifier } from "../../runtime/observe/notify.ts";
import { acmeStorageFor } from "../../runtime/acme/storage.ts";
import { readEtcdSnapshot } from "../../runtime/storage/mod.ts";
import { requireComponent } from "../components.ts";
import { put, withEtcd } from "../_support/etcd.ts";

const etcdBins = await requireComponent("etcd", { binaries: ["etcd"], aptPackages: ["etcd-server"] });

const ignore = !pebbleBins;

function config(port: number, cert: string, extra = "", tlsPort?: number): string {
  const tls = tlsPort === undefined ? "" : `
[servers.secure]
addr = "127.0.0.1:${tlsPort}"
global_certificates = true
locations = ["ping"]
`;
  return `
[basic]
${extra}
[servers.web]
addr = "127.0.0.1:${port}"
locations = ["ping"]
${tls}
[locations.ping]
path = "/"
plugins = ["pingap:ping"]
[certificates.site]
${cert}
`;
}

/** `openssl verify` of the leaf against Pebble's chain; returns the leaf's SAN line. */
async function verify(pebble: Pebble, chainPem: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const { root, intermediate } = await pebble.roots();
    const leaf = chainPem.slice(0, chainPem.indexOf("-----END CERTIFICATE-----") + 25) + "\n";
    await Deno.writeTextFile(`${dir}/root.pem`, root);
    await Deno.writeTextFile(`${dir}/inter.pem`, intermediate);
    await Deno.writeTextFile(`${dir}/leaf.pem`, leaf);
    const run = async (args: string[]) => {
      const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "piped", stderr: "piped" }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `openssl ${args.join(" ")}:\n${text}`);
      return text;
    };
    assert.match(await run(["verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", "leaf.pem"]), /leaf\.pem: OK/);
    return await run(["x509", "-noout", "-ext", "subjectAltName", "-in", "leaf.pem"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `curl --cacert <Pebble's root>` to `https://<host>:<port>/ping` on 127.0.0.1; the body. */
async function curlHttps(pebble: Pebble, host: string, port: number): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/root.pem`, (await pebble.roots()).root);
    const args = ["-sS", "--cacert", `${dir}/root.pem`, "--resolve", `${host}:${port}:127.0.0.1`];
    const out = await new Deno.Command("curl", {
      args: [...args, `https://${host}:${port}/ping`],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `curl https://${host}:${port}/ping: ${text}`);
    return text;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Collects what a manager hands over; `next()` waits for the next one. */
function handed() {
  const got: IssuedCertificate[] = [];
  let wake: (() => void) | undefined;
  return {
    got,
    onCertificate(_name: string, c: IssuedCertificate) {
      got.push(c);
      wake?.();
    },
    async next(count: number, ms = 30_000): Promise<IssuedCertificate> {
      const deadline = Date.now() + ms;
      while (got.length < count) {
        assert.ok(Date.now() < deadline, `no certificate #${count} within ${ms} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
      return got[count - 1]!;
    },
  };
}

/** What an ACME test gets: a running Pebble, a temporary directory, and cleanups run in reverse order. */
interface Case {
  readonly pebble: Pebble;
  readonly dir: string;
  defer(cleanup: () => unknown): void;
}

/** A test against a fresh Pebble (trusted for the ACME connections) and a temporary directory. */
function acmeTest(
  name: string,
  options: { httpPort?: number; validitySeconds?: number; eab?: Record<string, string> },
  fn: (c: Case) => Promise<void>,
) {
  Deno.test({
    name,
    ignore,
    async fn() {
      const pebble = await startPebble({ httpPort: options.httpPort ?? freePort(), ...options });
      const dir = await Deno.makeTempDir();
      const cleanups: (() => unknown)[] = [() => Deno.remove(dir, { recursive: true }), () => pebble.stop()];
      trustAcmeRoots(pebble.listenerCa);
      try {
        await fn({ pebble, dir, defer: (c) => cleanups.push(c) });
      } finally {
        for (const c of cleanups.reverse()) await c();
      }
    },
  });
}

const port1 = freePort();
acmeTest(
  "ACME http-01: the proxy's plain-HTTP listener answers Pebble; the certificate is served over HTTPS (curl --cacert)",
  { httpPort: port1 },
  async ({ pebble, dir, defer }) => {
    const tlsPort = freePort();
    const proxy = await startTestProxy(config(
      port1,
      `domains = "www.example.com,example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"`,
      "",
      tlsPort,
    ));
    defer(() => proxy.close());
    const manager = createAcmeManager({
      storage: fileStorage(dir),
      challenges: proxy.proxy.challenges,
      onCertificate: (name, cert) => handOverCertificate(proxy.proxy.certificates, name, cert),
      log() {},
    });
    defer(() => manager.close());
    manager.update(proxy.proxy.active.plan);
    await manager.idle();
    const stored = manager.current("site");
    assert.ok(stored, `issued; pebble log:\n${pebble.log().slice(-3000)}`);
    const san = await verify(pebble, stored.cert);
    assert.match(san, /DNS:www\.example\.com/);
    assert.match(san, /DNS:example\.com/);
    // Pebble fetched the tokens from our listener.
    assert.match(pebble.log(), new RegExp(`validate w/ HTTP: http://example\\.com:${port1}/\\.well-known/`));
    assert.equal(pebble.orders(), 1);
    const onDisk = parseStoredCertificate(await Deno.readTextFile(`${dir}/certificates/site.json`));
    assert.equal(onDisk?.cert, stored.cert);
    assert.match(await Deno.readTextFile(`${dir}/account.key.pem`), /PRIVATE KEY/);
    // Handed to the TLS store: the proxy serves it, curl verifies it against Pebble's root, for both names.
    assert.equal(await curlHttps(pebble, "www.example.com", tlsPort), "pong");
    assert.equal(await curlHttps(pebble, "example.com", tlsPort), "pong");
  },
);

acmeTest(
  "ACME dns-01: the TXT record goes through pebble-challtestsrv's API; the certificate verifies",
  {}, // nobody answers http-01
  async ({ pebble, dir, defer }) => {
    const plan = compileToml(config(
      freePort(),
      `domains = "*.dns.example.com,dns.example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"\n` +
        `dns_challenge = true\ndns_provider = "challtestsrv"\ndns_service_url = "${pebble.challtestsrv}"`,
    ));
    const manager = createAcmeManager({ storage: fileStorage(dir), log() {} });
    defer(() => manager.close());
    manager.update(plan);
    await manager.idle();
    const stored = manager.current("site");
    assert.ok(stored, `issued; pebble log:\n${pebble.log().slice(-3000)}`);
    assert.match(await verify(pebble, stored.cert), /DNS:\*\.dns\.example\.com/);
    assert.match(pebble.log(), /Added DNS-01 TXT challenge for Host "_acme-challenge\.dns\.example\.com\."/);
    assert.doesNotMatch(pebble.log(), /validate w\/ HTTP/);
  },
);

acmeTest(
  'ACME acme_key_type = "rsa": the issued certificate has an RSA 2048 key (ECDSA P-256 by default)',
  {},
  async ({ pebble, dir, defer }) => {
    const keyOf = async (name: string, keyType: string) => {
      const certificate = `domains = "${name}.example.com"\nacme = "lets_encrypt"\n` +
        `acme_directory = "${pebble.directory}"\ndns_challenge = true\ndns_provider = "challtestsrv"\n` +
        `dns_service_url = "${pebble.challtestsrv}"\n${keyType}`;
      const manager = createAcmeManager({ storage: fileStorage(`${dir}/${name}`), log() {} });
      defer(() => manager.close());
      manager.update(compileToml(config(freePort(), certificate)));
      await manager.idle();
      const stored = manager.current("site");
      assert.ok(stored, `issued; pebble log:\n${pebble.log().slice(-3000)}`);
      await verify(pebble, stored.cert);
      return createPrivateKey(stored.key);
    };
    const rsa = await keyOf("rsa", 'acme_key_type = "rsa"');
    assert.equal(rsa.asymmetricKeyType, "rsa");
    assert.equal(rsa.asymmetricKeyDetails?.modulusLength, 2048);
    const ec = await keyOf("ecdsa", "");
    assert.equal(ec.asymmetricKeyType, "ec");
    assert.equal(ec.asymmetricKeyDetails?.namedCurve, "prime256v1");
  },
);

const EAB_HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

acmeTest(
  "ACME acme_eab_kid/acme_eab_hmac bind the account where the CA requires it; acme_contact gives its contacts",
  { eab: { "kid-1": EAB_HMAC } },
  async ({ pebble, dir, defer }) => {
    const order = async (name: string, extra: string) => {
      const certificate = `domains = "${name}.example.com"\nacme = "lets_encrypt"\n` +
        `acme_directory = "${pebble.directory}"\ndns_challenge = true\ndns_provider = "challtestsrv"\n` +
        `dns_service_url = "${pebble.challtestsrv}"\n${extra}`;
      const lines: string[] = [];
      const manager = createAcmeManager({ storage: fileStorage(`${dir}/${name}`), log: (l) => lines.push(l) });
      defer(() => manager.close());
      manager.update(compileToml(config(freePort(), certificate)));
      await manager.idle();
      return { stored: manager.current("site"), lines };
    };
    const unbound = await order("unbound", "");
    assert.equal(unbound.stored, undefined, "the CA requires a binding");
    assert.match(unbound.lines.join("\n"), /order failed/);
    const bound = await order(
      "bound",
      `acme_eab_kid = "kid-1"\nacme_eab_hmac = "${EAB_HMAC}"\n` +
        `acme_email = "ops@example.com"\nacme_contact = "mailto:ops@example.com, sec@example.com"`,
    );
    assert.ok(bound.stored, `issued; ${bound.lines.join("\n")}\npebble log:\n${pebble.log().slice(-3000)}`);
    await verify(pebble, bound.stored.cert);
    // The account as the CA holds it: looked up by its key.
    const acme = (await import("acme-client")).default;
    const client = new acme.Client({
      directoryUrl: pebble.directory,
      accountKey: await Deno.readTextFile(`${dir}/bound/account.key.pem`),
    });
    const api = (client as unknown as {
      api: { createAccount(data: unknown): Promise<{ data: { contact?: string[] } }> };
    }).api;
    const account = await api.createAccount({ onlyReturnExisting: true });
    assert.deepEqual(account.data.contact, ["mailto:ops@example.com", "mailto:sec@example.com"]);
  },
);

acmeTest(
  "ACME manual dns-01 provider: logs the record and waits until the DNS shows it",
  {},
  async ({ pebble }) => {
    const lines: string[] = [];
    const provider = manualProvider({
      log: (l) => lines.push(l),
      polls: 50,
      pollIntervalMs: 100,
      nameServer: pebble.dns,
    });
    const waiting = provider.setTxt("_acme-challenge.manual.example.com", "v4lue");
    while (!lines.length) await new Promise((r) => setTimeout(r, 20));
    assert.match(lines[0]!, /create the DNS record\s+_acme-challenge\.manual\.example\.com\. TXT "v4lue"/);
    // The operator creates it.
    const res = await fetch(`${pebble.challtestsrv}/set-txt`, {
      method: "POST",
      body: JSON.stringify({ host: "_acme-challenge.manual.example.com.", value: "v4lue" }),
    });
    await res.body?.cancel();
    await waiting;
    assert.match(lines[1]!, /TXT seen/);
  },
);

const port2 = freePort();
acmeTest(
  "ACME restart: the CLI reuses the stored certificate and places no new order",
  { httpPort: port2 },
  async ({ pebble, dir, defer }) => {
    await Deno.writeTextFile(`${dir}/ca.pem`, pebble.listenerCa);
    await Deno.writeTextFile(
      `${dir}/pingap.toml`,
      config(port2, `domains = "restart.example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"`),
    );
    // acme-client talks through node:https, which reads the extra roots when the process starts.
    Deno.env.set("NODE_EXTRA_CA_CERTS", `${dir}/ca.pem`);
    defer(() => Deno.env.delete("NODE_EXTRA_CA_CERTS"));
    const stored = `${dir}/pingap-acme/certificates/site.json`;

    const first = spawnDeno([...START_ARGS, `${dir}/pingap.toml`]);
    try {
      await first.waitFor(/acme: "site": certificate issued/, 60_000);
      await first.waitFor(/acme: "site" serves restart\.example\.com/);
    } finally {
      await first.stop();
    }
    assert.equal(pebble.orders(), 1);
    const issued = parseStoredCertificate(await Deno.readTextFile(stored));
    assert.ok(issued);
    await verify(pebble, issued.cert);

    const second = spawnDeno([...START_ARGS, `${dir}/pingap.toml`]);
    try {
      await second.waitFor(/acme: "site": stored certificate valid until/, 60_000);
      await second.waitFor(/acme: "site" serves restart\.example\.com/);
      const res = await fetch(`http://127.0.0.1:${port2}/`);
      await res.body?.cancel();
      assert.doesNotMatch(second.output(), /ordering a certificate/);
    } finally {
      await second.stop();
    }
    assert.equal(pebble.orders(), 1, "no new order after the restart");
    assert.equal(parseStoredCertificate(await Deno.readTextFile(stored))?.cert, issued.cert);
  },
);

const port5 = freePort();
acmeTest(
  "ACME with threads = 2: the main isolate orders, the workers answer http-01 and serve the certificate",
  { httpPort: port5 },
  async ({ pebble, dir, defer }) => {
    await Deno.writeTextFile(`${dir}/ca.pem`, pebble.listenerCa);
    const tlsPort = freePort();
    const cert = `domains = "workers.example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"`;
    await Deno.writeTextFile(`${dir}/pingap.toml`, config(port5, cert, "threads = 2", tlsPort));
    Deno.env.set("NODE_EXTRA_CA_CERTS", `${dir}/ca.pem`);
    defer(() => Deno.env.delete("NODE_EXTRA_CA_CERTS"));
    const proxy = spawnDeno([...START_ARGS, `${dir}/pingap.toml`]);
    defer(() => proxy.stop());
    await proxy.waitFor(/with 2 workers/);
    await proxy.waitFor(/acme: "site": certificate issued/, 60_000);
    await proxy.waitFor(/acme: "site" serves workers\.example\.com/);
    assert.match(pebble.log(), new RegExp(`validate w/ HTTP: http://workers\\.example\\.com:${port5}/`));
    // New connections land on either worker (SO_REUSEPORT): every one serves the certificate.
    for (let i = 0; i < 8; i++) assert.equal(await curlHttps(pebble, "workers.example.com", tlsPort), "pong");
  },
);

const port3 = freePort();
acmeTest(
  "ACME renewal: a certificate with a third of its lifetime left is replaced and handed over again",
  { httpPort: port3, validitySeconds: 9 },
  async ({ pebble, dir, defer }) => {
    const proxy = await startTestProxy(
      config(port3, `domains = "renew.example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"`),
    );
    defer(() => proxy.close());
    const seen = handed();
    const lines: string[] = [];
    const manager = createAcmeManager({
      storage: fileStorage(dir),
      challenges: proxy.proxy.challenges,
      onCertificate: seen.onCertificate,
      log: (l) => lines.push(l),
    });
    defer(() => manager.close());
    manager.update(proxy.proxy.active.plan);
    const first = await seen.next(1);
    const second = await seen.next(2).catch((e) => {
      throw new Error(`${e.message}; log:\n${lines.join("\n")}`);
    });
    assert.notEqual(second.cert, first.cert);
    assert.ok(second.notAfter > first.notAfter);
    assert.ok(pebble.orders() >= 2);
    await verify(pebble, second.cert);
    const onDisk = parseStoredCertificate(await Deno.readTextFile(`${dir}/certificates/site.json`));
    assert.ok(onDisk && onDisk.notAfter >= second.notAfter);
  },
);

acmeTest(
  "ACME failure: logged, sent as a lets_encrypt webhook event, retried with backoff",
  {}, // http-01 validation cannot succeed: nobody listens on Pebble's http port
  async ({ pebble, dir, defer }) => {
    const events: { category: string; level: string; message: string }[] = [];
    const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      events.push(await req.json());
      return new Response("ok");
    });
    defer(() => receiver.shutdown());
    const plan = compileToml(config(
      freePort(),
      `domains = "fail.example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"`,
      `webhook = "http://127.0.0.1:${receiver.addr.port}/hook"\nwebhook_notifications = ["lets_encrypt"]\n` +
        `webhook_batch_window = "0s"`,
    ));
    const lines: string[] = [];
    const notifier = createNotifier(plan.basic);
    const manager = createAcmeManager({
      storage: fileStorage(dir),
      notifier: () => notifier,
      log: (l) => lines.push(l),
      minBackoffMs: 300,
    });
    defer(() => manager.close());
    manager.update(plan);
    const deadline = Date.now() + 30_000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(events.length >= 2, `two failure events; log:\n${lines.join("\n")}`);
    assert.equal(events[0]!.category, "lets_encrypt");
    assert.equal(events[0]!.level, "error");
    assert.match(events[0]!.message, /fail\.example\.com.*order failed \(attempt 1\)/);
    assert.match(events[1]!.message, /attempt 2/);
    assert.ok(lines.some((l) => /retrying in/.test(l)));
    assert.equal(manager.current("site"), undefined);
  },
);

const port4 = freePort();
acmeTest(
  "ACME state in etcd: kept under /<base>-acme/, outside the config; another proxy reuses it without an order",
  { httpPort: port4 },
  async ({ pebble, defer }) => {
    if (!etcdBins) return; // requireComponent warned loudly
    await withEtcd(etcdBins.etcd, async (etcd) => {
      await put(etcd, "/pingap/basic.toml", '[basic]\nname = "p"\n');
      const toml = config(
        port4,
        `domains = "etcd.example.com"\nacme = "lets_encrypt"\nacme_directory = "${pebble.directory}"`,
      );
      const proxy = await startTestProxy(toml);
      defer(() => proxy.close());
      const first = createAcmeManager({
        storage: acmeStorageFor(etcd.url()),
        challenges: proxy.proxy.challenges,
        log() {},
      });
      first.update(proxy.proxy.active.plan);
      await first.idle();
      await first.close();
      const issued = first.current("site");
      assert.ok(issued, `issued; pebble log:\n${pebble.log().slice(-2000)}`);
      assert.equal(pebble.orders(), 1);
      // The config prefix holds only the config.
      const snapshot = await readEtcdSnapshot(etcd.url());
      assert.deepEqual(snapshot.sources.map((s) => s.file), [`etcd://127.0.0.1:${etcd.port}/pingap/basic.toml`]);

      const seen = handed();
      const second = createAcmeManager({
        storage: acmeStorageFor(etcd.url()),
        onCertificate: seen.onCertificate,
        log() {},
      });
      second.update(compileToml(toml));
      await second.idle();
      await second.close();
      assert.equal((await seen.next(1)).cert, issued.cert);
      assert.equal(pebble.orders(), 1, "no new order");
    });
  },
);
