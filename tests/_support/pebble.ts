/**
 * A real Pebble (Let's Encrypt's test CA) and pebble-challtestsrv (its
 * DNS server with a management API), started on free 127.0.0.1 ports for a
 * test and stopped after it. Binaries come from the Debian package
 * `pebble` through `tests/components.ts`.
 *
 * Pebble's own HTTPS listener gets a leaf signed by a throwaway CA made
 * with openssl (`listenerCa`, to trust for the ACME connections); every
 * name resolves to 127.0.0.1 through challtestsrv, and http-01 is checked
 * on `httpPort`.
 *
 * @module
 */
import { requireComponent } from "../components.ts";
import { freePort } from "./origin.ts";

/** Pebble's binaries, or undefined (after a loud warning) when missing. */
export const pebbleBins = await requireComponent("pebble", {
  binaries: ["pebble", "pebble-challtestsrv"],
  aptPackages: ["pebble"],
});

/** A running Pebble. */
export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** PEM of the CA that signed Pebble's listener certificate. */
  readonly listenerCa: string;
  /** challtestsrv's management API (the `challtestsrv` DNS provider's URL). */
  readonly challtestsrv: string;
  /** challtestsrv's DNS server. */
  readonly dns: { ipAddr: string; port: number };
  /** The root and intermediate that sign issued certificates (PEM). */
  roots(): Promise<{ root: string; intermediate: string }>;
  /** Orders Pebble has accepted so far (counted in its log; a retried request after a rejected nonce counts once). */
  orders(): number;
  log(): string;
  stop(): Promise<void>;
}

/** Options of {@linkcode startPebble}. */
export interface PebbleOptions {
  /** Port where Pebble checks http-01 answers (our proxy's plain-HTTP listener). */
  readonly httpPort: number;
  /** Lifetime of issued certificates, seconds (Pebble's default: about 5 years). */
  readonly validitySeconds?: number;
  /** External account binding required, with these MAC keys (kid → base64url HMAC key). */
  readonly eab?: Readonly<Record<string, string>>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
}

function spawn(cmd: string, args: string[], env: Record<string, string>, sink: (s: string) => void) {
  const child = new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
  const read = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    for await (const chunk of s) sink(d.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([read(child.stdout), read(child.stderr)]);
  return {
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
      await pumps;
    },
  };
}

/** Starts challtestsrv and Pebble; call `stop()` in a `finally`. */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  if (!pebbleBins) throw new Error("pebble is not installed");
  const dir = await Deno.makeTempDir({ prefix: "pingap-pebble-" });
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  await openssl(
    `req -x509 ${ec} -days 2 -subj /CN=minica -keyout ca.key -out ca.pem`.split(" ").concat(
      ["-addext", "basicConstraints=critical,CA:TRUE"],
    ),
    dir,
  );
  await openssl(`req ${ec} -subj /CN=localhost -keyout key.pem -out leaf.csr`.split(" "), dir);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl(
    "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out cert.pem".split(" "),
    dir,
  );
  const [acmePort, mgmtPort, dnsPort, ctsPort, tlsPort] = [freePort(), freePort(), freePort(), freePort(), freePort()];
  await Deno.writeTextFile(
    `${dir}/pebble.json`,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: `${dir}/cert.pem`,
        privateKey: `${dir}/key.pem`,
        httpPort: options.httpPort,
        tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: options.eab !== undefined,
        ...(options.eab ? { externalAccountMACKeys: options.eab } : {}),
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
      },
    }),
  );
  let out = "";
  const sink = (s: string) => out += s;
  const cts = spawn(
    pebbleBins["pebble-challtestsrv"],
    [
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-management",
      `127.0.0.1:${ctsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
    ],
    {},
    sink,
  );
  const pebble = spawn(pebbleBins.pebble, ["-config", `${dir}/pebble.json`, "-dnsserver", `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: "1",
  }, sink);
  const listenerCa = await Deno.readTextFile(`${dir}/ca.pem`);
  const client = Deno.createHttpClient({ caCerts: [listenerCa] });
  const stop = async () => {
    client.close();
    await Promise.all([pebble.stop(), cts.stop()]);
    await Deno.remove(dir, { recursive: true });
  };
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const get = async (url: string) => {
    const res = await fetch(url, { client, signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${url}: ${res.status} ${text}`);
    return text;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await get(directory);
      await fetch(`http://127.0.0.1:${ctsPort}/clear-txt`, { method: "POST", body: '{"host":"x."}' })
        .then((r) => r.body?.cancel());
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`pebble did not start: ${(e as Error).message}\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    directory,
    listenerCa,
    challtestsrv: `http://127.0.0.1:${ctsPort}`,
    dns: { ipAddr: "127.0.0.1", port: dnsPort },
    async roots() {
      const mgmt = `https://127.0.0.1:${mgmtPort}`;
      return { root: await get(`${mgmt}/roots/0`), intermediate: await get(`${mgmt}/intermediates/0`) };
    },
    orders: () => out.match(/Added order "[^"]+" to the db/g)?.length ?? 0,
    log: () => out,
    stop,
  };
}
