/**
 * Quick start: proxy one site with no config file, as Pingap's
 * `--upstream`, `--domain`, `--cert`, `--key` and `--addr` do. The flags
 * become a TOML text in memory, which goes through the same compiler as a
 * config file and then the same runtime: `-t` with these flags checks it.
 *
 * The generated items are all named `pingap`: an upstream, a location
 * (`path = "/"`, `host` = the domains), a server with `access_log =
 * "combined"`, and with TLS a certificate (`--cert`, or Let's Encrypt when
 * only `--domain` is given) plus `global_certificates` and `enabled_h2`.
 *
 * @example Usage
 * ```ts ignore
 * import { checkQuickStart } from "./quick_start.ts";
 * const r = await checkQuickStart({ upstream: "127.0.0.1:3000", addr: "127.0.0.1:8080" });
 * if (r.plan) console.log(r.plan.servers[0]?.name); // "pingap"
 * ```
 *
 * @module
 */
import { compileSources, type Diagnostic, hasErrors, type Plan } from "../../compiler/mod.ts";

/** The quick-start flags; `upstream` is required. */
export interface QuickStartFlags {
  /** Comma list of upstream addresses (`host:port`). */
  readonly upstream: string;
  /** Comma list of hosts: the location's `host` and the certificate's `domains`. */
  readonly domain?: string | undefined;
  /** A PEM certificate file, or a directory holding one under a well-known name. */
  readonly cert?: string | undefined;
  /** The key file; else found next to the certificate. */
  readonly key?: string | undefined;
  /** Listen address; default `0.0.0.0:443` with a certificate (ACME too), else `0.0.0.0:80`. */
  readonly addr?: string | undefined;
}

/** What {@linkcode checkQuickStart} returns: the shape `check` prints and `start` runs. */
export interface QuickStartResult {
  /** 0 no error, 1 config errors, 2 bad flags (see `readError`). */
  readonly exitCode: 0 | 1 | 2;
  readonly diagnostics: readonly Diagnostic[];
  readonly plan?: Plan;
  /** A flag that cannot be turned into a config (missing file, empty list). */
  readonly readError?: string;
  /** The generated TOML. */
  readonly text?: string;
  /**
   * Where the ACME state is kept when the config asks Let's Encrypt (`--domain` without `--cert`): a path under
   * `~/.pingap/acme/` named after the domains, so two quick-start proxies never share a certificate.
   */
  readonly acmeBase?: string;
}

/** The name every generated item has. */
export const QUICK_START_NAME = "pingap";

/** The file name the generated text is compiled under (diagnostics name the flag instead where they can). */
export const QUICK_START_FILE = "(quick start)";

/** Certificate names looked up in a `--cert` directory, in order. */
export const CERT_FILE_NAMES = ["fullchain.pem", "cert.pem", "tls.crt", "server.crt", "cert.crt"] as const;

/** Key names looked up beside the certificate when `--key` is not given, in order. */
export const KEY_FILE_NAMES = ["privkey.pem", "key.pem", "tls.key", "server.key", "cert.key"] as const;

function splitList(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function home(): string {
  return Deno.env.get("HOME") ?? "";
}

function resolvePath(p: string): string {
  return p === "~" || p.startsWith("~/") ? home() + p.slice(1) : p;
}

async function kind(path: string): Promise<"file" | "dir" | undefined> {
  try {
    const s = await Deno.stat(path);
    return s.isDirectory ? "dir" : s.isFile ? "file" : undefined;
  } catch {
    return undefined;
  }
}

async function findFile(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const path = `${dir.replace(/\/+$/, "")}/${name}`;
    if (await kind(path) === "file") return path;
  }
  return undefined;
}

/** `--cert` (file or directory) and `--key` to a certificate and a key file, or an error message. */
export async function resolveTlsFiles(
  cert: string,
  key: string | undefined,
): Promise<{ cert: string; key: string } | { error: string }> {
  const certPath = resolvePath(cert);
  let certFile: string, dir: string;
  const k = await kind(certPath);
  if (k === "dir") {
    const found = await findFile(certPath, CERT_FILE_NAMES);
    if (!found) {
      return { error: `--cert: no certificate found in ${certPath}, expected one of: ${CERT_FILE_NAMES.join(", ")}` };
    }
    certFile = found;
    dir = certPath;
  } else if (k === "file") {
    certFile = certPath;
    const slash = certPath.lastIndexOf("/");
    dir = slash < 0 ? "." : certPath.slice(0, slash) || "/";
  } else {
    return { error: `--cert: certificate ${certPath} does not exist` };
  }
  if (key !== undefined) {
    const keyPath = resolvePath(key);
    if (await kind(keyPath) !== "file") return { error: `--key: private key ${keyPath} does not exist` };
    return { cert: certFile, key: keyPath };
  }
  const found = await findFile(dir, KEY_FILE_NAMES);
  if (!found) {
    return {
      error: `--cert: no private key found in ${dir}, expected one of: ${KEY_FILE_NAMES.join(", ")}; use --key`,
    };
  }
  return { cert: certFile, key: found };
}

/** A TOML basic string (JSON's escapes are a subset of TOML's). */
const str = (s: string) => JSON.stringify(s);

/**
 * Builds the config text of the flags, or an error message for flags that
 * cannot make one (Pingap's messages). Reads the file system only to find
 * the certificate and key.
 */
export async function quickStartToml(
  flags: QuickStartFlags,
): Promise<{ text: string; acmeBase?: string } | { error: string }> {
  const addrs = splitList(flags.upstream);
  if (addrs.length === 0) return { error: "--upstream should not be empty" };
  const domains = splitList(flags.domain);
  const host = domains.length ? domains.join(",") : undefined;
  let certificate: string[] | undefined;
  let acmeBase: string | undefined;
  if (flags.cert !== undefined) {
    const tls = await resolveTlsFiles(flags.cert, flags.key);
    if ("error" in tls) return tls;
    certificate = [
      ...(host ? [`domains = ${str(host)}`] : []),
      `tls_cert = ${str(tls.cert)}`,
      `tls_key = ${str(tls.key)}`,
      "is_default = true",
    ];
  } else if (flags.key !== undefined) {
    return { error: "--key should be used with --cert" };
  } else if (host) {
    // No certificate but names to prove: Let's Encrypt over http-01.
    certificate = [`domains = ${str(host)}`, `acme = "lets_encrypt"`, "is_default = true"];
    acmeBase = `${home()}/.pingap/acme/${host.replace(/[^A-Za-z0-9.-]/g, "_")}.toml`;
  }
  const tls = certificate !== undefined;
  const addr = flags.addr ?? (tls ? "0.0.0.0:443" : "0.0.0.0:80");
  const n = QUICK_START_NAME;
  const lines = [
    "[basic]",
    `name = ${str(n)}`,
    `log_level = "INFO"`,
    "",
    `[upstreams.${n}]`,
    `addrs = [${addrs.map(str).join(", ")}]`,
    "",
    `[locations.${n}]`,
    `path = "/"`,
    ...(host ? [`host = ${str(host)}`] : []),
    `upstream = ${str(n)}`,
    "",
    `[servers.${n}]`,
    `addr = ${str(addr)}`,
    `access_log = "combined"`,
    `locations = [${str(n)}]`,
    ...(tls ? ["global_certificates = true", "enabled_h2 = true"] : []),
  ];
  if (certificate) lines.push("", `[certificates.${n}]`, ...certificate);
  // The http-01 challenge needs a plain listener on port 80, which Pingap adds when no server has one.
  if (acmeBase && !/:80$/.test(addr)) lines.push("", "[servers.lets_encrypt]", `addr = "0.0.0.0:80"`);
  return { text: lines.join("\n") + "\n", ...(acmeBase ? { acmeBase } : {}) };
}

/** The flag a generated key comes from, for diagnostics. */
function flagOf(path: readonly (string | number)[]): string | undefined {
  const [section, name, key] = path;
  if (name !== QUICK_START_NAME) return section === "servers" && name === "lets_encrypt" ? "--domain" : undefined;
  if (section === "upstreams" && key === "addrs") return "--upstream";
  if (section === "servers" && key === "addr") return "--addr";
  if (section === "locations" && key === "host") return "--domain";
  if (section === "certificates") return key === "tls_key" ? "--key" : key === "tls_cert" ? "--cert" : "--domain";
  return undefined;
}

/**
 * Diagnostics of the generated config as the user can act on them: one on a
 * generated key names its flag as the file (e.g. `--addr`), the others name
 * {@linkcode QUICK_START_FILE}.
 */
export function flagDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.map((d): Diagnostic => {
    const flag = flagOf(d.path);
    if (!flag) return d.file === undefined ? d : { ...d, file: QUICK_START_FILE };
    const { line: _l, column: _c, ...rest } = d;
    return { ...rest, file: flag };
  });
}

/**
 * Builds and compiles the quick-start config: the same compiler a config
 * file goes through. Diagnostics as {@linkcode flagDiagnostics} gives them.
 */
export async function checkQuickStart(flags: QuickStartFlags): Promise<QuickStartResult> {
  const built = await quickStartToml(flags);
  if ("error" in built) return { exitCode: 2, diagnostics: [], readError: built.error };
  const result = compileSources([{ file: QUICK_START_FILE, text: built.text }]);
  const diagnostics = flagDiagnostics(result.diagnostics);
  const ok = !hasErrors(diagnostics);
  return {
    exitCode: ok ? 0 : 1,
    diagnostics,
    text: built.text,
    ...(ok && result.plan ? { plan: result.plan } : {}),
    ...(built.acmeBase ? { acmeBase: built.acmeBase } : {}),
  };
}
