/**
 * Test certificates made with `openssl` at test time: a small CA and
 * leaves signed by it, in a temporary directory. No private key is ever
 * committed.
 *
 * @module
 */

/** A leaf to make. */
export interface LeafSpec {
  /** File stem and CN. */
  readonly name: string;
  /** SAN DNS names (default: `[name]`). */
  readonly dns?: readonly string[];
  /** Days of validity from now; negative makes an expired certificate (default 30). */
  readonly days?: number;
  /** Start of validity in days from now (default -1). */
  readonly startDays?: number;
  /** A client certificate (extended key usage `clientAuth`, no SAN) instead of a server one. */
  readonly client?: boolean;
  /** `authorityInfoAccess` OCSP responder URL. */
  readonly ocspUrl?: string;
}

/** A made certificate: paths and PEM text. */
export interface MadeCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/** The CA and its leaves. */
export interface TestPki {
  readonly dir: string;
  readonly ca: MadeCert;
  readonly leaves: Record<string, MadeCert>;
  /** Makes one more leaf signed by the CA. */
  leaf(spec: LeafSpec): Promise<MadeCert>;
  /** Removes the directory. */
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
}

function ymd(daysFromNow: number): string {
  const d = new Date(Date.now() + daysFromNow * 86_400_000);
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

async function read(dir: string, stem: string): Promise<MadeCert> {
  const certFile = `${dir}/${stem}.pem`, keyFile = `${dir}/${stem}.key`;
  return { certFile, keyFile, cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) };
}

/**
 * Makes an ECDSA P-256 CA (`ca.pem`, `ca.key`) and the given leaves.
 *
 * @param leaves Leaves to make now (more with {@linkcode TestPki.leaf}).
 * @returns The PKI; call `remove()` when done.
 */
export async function makeTestPki(leaves: readonly LeafSpec[] = []): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "pingap-pki-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl(
    ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "60", "-subj", "/O=Pingap Test/CN=Test CA"],
    dir,
  );
  const ca = await read(dir, "ca");
  let serial = 1;
  const made: Record<string, MadeCert> = {};
  const leaf = async (spec: LeafSpec): Promise<MadeCert> => {
    const stem = spec.name.replace(/[^A-Za-z0-9.-]/g, "_");
    const san = (spec.dns ?? [spec.name]).map((d) => `DNS:${d}`).join(",");
    await Deno.writeTextFile(
      `${dir}/${stem}.cnf`,
      [
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nserial=serial\nnew_certs_dir=.\npolicy=p\ndefault_md=sha256\ncopy_extensions=none",
        "[p]\ncommonName=supplied",
        spec.client
          ? "[x]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth"
          : `[x]\nsubjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth` +
            (spec.ocspUrl ? `\nauthorityInfoAccess=OCSP;URI:${spec.ocspUrl}` : ""),
      ].join("\n"),
    );
    await Deno.writeTextFile(`${dir}/index.txt`, "");
    await Deno.writeTextFile(`${dir}/serial`, (serial++).toString(16).padStart(4, "0") + "\n");
    await openssl(["req", ...ec, "-keyout", `${stem}.key`, "-out", `${stem}.csr`, "-subj", `/CN=${spec.name}`], dir);
    await openssl([
      "ca",
      "-batch",
      "-config",
      `${stem}.cnf`,
      "-cert",
      "ca.pem",
      "-keyfile",
      "ca.key",
      "-in",
      `${stem}.csr`,
      "-out",
      `${stem}.pem`,
      "-extensions",
      "x",
      "-notext",
      "-startdate",
      ymd(spec.startDays ?? -1),
      "-enddate",
      ymd(spec.days ?? 30),
    ], dir); // deno-fmt-ignore
    const m = await read(dir, stem);
    made[spec.name] = m;
    return m;
  };
  for (const l of leaves) await leaf(l);
  return { dir, ca, leaves: made, leaf, remove: () => Deno.remove(dir, { recursive: true }) };
}
