/**
 * The command line: `check` (the compiler alone) and `start` (the proxy),
 * with Pingap's flags where they make sense, and `PINGAP_*` environment
 * variables as fallbacks.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { checkConfig, exportConfig, syncConfig } from "../storage/mod.ts";
import { ConfigReadError, type Format, formatGithub, formatJson, formatText, type Source } from "../../compiler/mod.ts";
import { VERSION } from "../proxy/errors.ts";
import { flushAppLog, startAppLog } from "../observe/log/app_log.ts";
import { run } from "./run.ts";
import {
  adminAmend,
  adminSpec,
  isLoopbackHost,
  parseAdminFlag,
  setAdminContext,
  shareAdminContext,
} from "../admin/mod.ts";
import { checkSources } from "../../compiler/mod.ts";
import { checkQuickStart, flagDiagnostics, QUICK_START_FILE, type QuickStartFlags } from "./quick_start.ts";

const USAGE = `Usage:
  pingap check -c PATH [--format text|json|github] [--live]
  pingap [start] -c PATH [--autoreload] [--threads N] [--upgrade]
  pingap [start] --upstream ADDRS [--domain HOSTS] [--cert PATH [--key FILE]] [--addr ADDR]
  pingap --to-hcl|--to-kdl -c PATH
  pingap --template

Options:
  -c, --conf PATH     config file (.toml, .hcl or .kdl), directory (its .toml files; if none, .hcl; if none, .kdl),
                      or etcd:// URL (env PINGAP_CONF)
  -t, --test          check the config and exit 0/1 (same as "check"), also with "start": never serves
      --format F      check output: text (default), json, github
      --live          check also resolves upstream hosts, reads certificate files and GeoIP databases
      --autoreload    watch the config and apply changes in place (env PINGAP_AUTORELOAD)
  -a, --autorestart   same as --autoreload here: every change is applied in place (env PINGAP_AUTORESTART)
  -u, --upgrade       take over the ports of the running instance (pid file), which then drains and exits
                      (env PINGAP_UPGRADE)
      --threads N     worker isolates per server, overriding the config (0 = one per core)
      --log TARGET    application log: a file (PATH[?rolling=daily]), stdout, stderr (/dev/stdout, /dev/stderr), or
                      syslog://[host[:port]][/socket][?format=5424&protocol=tcp…]; stderr by default (env PINGAP_LOG)
      --template      print a starter config and exit
      --sync TARGET   copy the config (-c, or the quick start's) to an etcd:// URL, a directory or a .toml file,
                      and exit
  -d, --daemon        not supported: run under systemd (see conf/pingap.service) (env PINGAP_DAEMON)
      --admin SPEC    the admin API on [user:password@]host[:port][/path][?max_age=2d] (env PINGAP_ADMIN_ADDR,
                      PINGAP_ADMIN_USER, PINGAP_ADMIN_PASSWORD); a server on that address mounts it, else one is
                      added; without credentials only a loopback address is accepted (docs/admin.md)
      --cp            control-panel mode: only the admin server runs, to edit the config (-c) that other
                      instances serve; needs --admin (env PINGAP_CP)
      --to-hcl        print the config (-c, or the quick start's) as HCL and exit; it must pass check
      --to-kdl        print it as KDL (v2) and exit
  -h, --help          this help
  -V, --version       print the version

Quick start (no config file; conflicts with -c, and PINGAP_CONF is then ignored):
      --upstream ADDRS  comma list of upstream addresses (host:port) to proxy every request to
      --domain HOSTS    comma list of hosts served (others get 404); without --cert, a Let's Encrypt certificate
                        for them (http-01: a plain listener on 0.0.0.0:80 is added)
      --cert PATH       TLS certificate: a PEM file, or a directory holding fullchain.pem, cert.pem, tls.crt,
                        server.crt or cert.crt
      --key FILE        its key (default: privkey.pem, key.pem, tls.key, server.key or cert.key beside it)
      --addr ADDR       listen address (default 0.0.0.0:443 with a certificate, else 0.0.0.0:80)
  The flags make one server, location and upstream named "pingap", compiled and run exactly as a config file;
  -t checks them.

Signals: SIGHUP reloads the config; SIGTERM, SIGINT and SIGQUIT shut down gracefully.`;

const TEMPLATE = `# A starter config. Check it with: deno task check -c pingap.toml
[basic]
name = "pingap"

[servers.web]
addr = "0.0.0.0:6188"
access_log = "combined"
locations = ["app", "ping"]

[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]

[locations.app]
path = "/"
upstream = "app"
enable_reverse_proxy_headers = true

[upstreams.app]
addrs = ["127.0.0.1:8080"]
health_check = "http://app/health?check_frequency=10s"
`;

function envFlag(name: string): boolean {
  const v = Deno.env.get(name);
  return v !== undefined && v !== "" && v !== "false" && v !== "0";
}

/** An environment variable, when set and not empty (Pingap's rule for its string fallbacks). */
function envValue(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v === undefined || v === "" ? undefined : v;
}

/** Pingap's flags that cannot apply here or are not built yet: each is an error naming why, never ignored. */
function refused(values: Record<string, unknown>): string | undefined {
  if (values.daemon || envFlag("PINGAP_DAEMON")) {
    return "--daemon is not supported: Deno cannot fork. Run under systemd instead: conf/pingap.service is a ready unit.";
  }
  return undefined;
}

/** The quick-start flags, when `--upstream` is given; or the usage error of a combination Pingap refuses. */
function quickStartFlags(values: Record<string, string | boolean | undefined>): QuickStartFlags | string | undefined {
  const str = (k: string) => typeof values[k] === "string" ? values[k] as string : undefined;
  const upstream = str("upstream");
  if (upstream === undefined) {
    for (const k of ["domain", "cert", "addr"]) if (str(k) !== undefined) return `--${k} needs --upstream`;
    if (str("key") !== undefined) return "--key should be used with --cert";
    return undefined;
  }
  if (values.conf !== undefined) {
    return "--upstream conflicts with -c/--conf: it builds the config from the flags " +
      "(`deno task start` passes -c conf/: run mod.ts or dist/pingap directly)";
  }
  if (str("key") !== undefined && str("cert") === undefined) return "--key should be used with --cert";
  return { upstream, domain: str("domain"), cert: str("cert"), key: str("key"), addr: str("addr") };
}

/** Runs the CLI; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        conf: { type: "string", short: "c" },
        test: { type: "boolean", short: "t" },
        format: { type: "string" },
        live: { type: "boolean" },
        autoreload: { type: "boolean" },
        autorestart: { type: "boolean", short: "a" },
        upgrade: { type: "boolean", short: "u" },
        threads: { type: "string" },
        log: { type: "string" },
        template: { type: "boolean" },
        daemon: { type: "boolean", short: "d" },
        admin: { type: "string" },
        cp: { type: "boolean" },
        sync: { type: "string" },
        upstream: { type: "string" },
        domain: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        addr: { type: "string" },
        "to-hcl": { type: "boolean" },
        "to-kdl": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(`pingap-deno ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  if (values.template) {
    console.log(TEMPLATE);
    return 0;
  }
  const no = refused(values);
  if (no) {
    console.error(no);
    return 2;
  }
  const positional = positionals[0];
  if (positional !== undefined && positional !== "check" && positional !== "start") {
    console.error(`Unknown command "${positional}"\n\n${USAGE}`);
    return 2;
  }
  // -t checks wherever it appears, with `start` too (Pingap's `pingap -c DIR -t && …` recipe): it never serves.
  const command = values.test ? "check" : positional ?? "start";
  const quick = quickStartFlags(values);
  if (typeof quick === "string") {
    console.error(`${quick}\n\n${USAGE}`);
    return 2;
  }
  // As in Pingap, PINGAP_CONF is not read when the flags make the config.
  const conf = quick ? QUICK_START_FILE : values.conf ?? envValue("PINGAP_CONF");
  if (!conf) {
    console.error(`Missing -c PATH (or --upstream ADDRS)\n\n${USAGE}`);
    return 2;
  }
  const format = (values.format ?? "text") as Format;
  if (!["text", "json", "github"].includes(format)) {
    console.error(`Unknown format "${format}": use text, json or github`);
    return 2;
  }
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 0) {
      console.error(`--threads takes a whole number, got "${values.threads}"`);
      return 2;
    }
  }
  if (values["to-hcl"] && values["to-kdl"]) {
    console.error(`--to-hcl and --to-kdl: give one\n\n${USAGE}`);
    return 2;
  }
  const to = values["to-hcl"] ? "hcl" : values["to-kdl"] ? "kdl" : undefined;
  if (to) return await printConverted(quick, conf, to);
  if (quick && values.sync !== undefined) return await syncQuickStart(quick, values.sync);
  if (values.sync !== undefined) return await syncConfig(conf, values.sync, (d) => report(d, "text", conf));
  const autoreload = values.autoreload || values.autorestart || envFlag("PINGAP_AUTORELOAD") ||
    envFlag("PINGAP_AUTORESTART");
  if (quick && autoreload) {
    console.error("warning: --autoreload/--autorestart: nothing to watch, the config comes from the flags");
  }
  const admin = adminOption(typeof values.admin === "string" ? values.admin : undefined, quick !== undefined);
  if (typeof admin === "string") {
    console.error(admin);
    return 2;
  }
  const cp = values.cp || envFlag("PINGAP_CP");
  if (cp && !admin) {
    console.error(
      `${values.cp ? "--cp" : "PINGAP_CP"} (control-panel mode: only the admin server runs) needs --admin ` +
        "(or PINGAP_ADMIN_ADDR): it would serve nothing",
    );
    return 2;
  }
  const amend = admin ? { amend: admin } : {};
  const live = values.live ?? false;
  let result = quick
    ? await (live ? liveQuickStart(quick) : checkQuickStart(quick))
    : await checkConfig(conf, { live, ...amend });
  if (result.readError) {
    console.error(result.readError);
    return 2;
  }
  report(result.diagnostics, format, conf);
  if (command === "check") return result.exitCode;
  // Control-panel mode: the admin alone, at start and at every reload; the config is what it edits, not what runs.
  const adminOnly = cp && admin ? () => checkSources([], { amend: admin }) : undefined;
  if (adminOnly) {
    console.error("control-panel mode (--cp): only the admin server runs");
    result = adminOnly();
  } else if (!result.plan && admin && !result.readError) {
    // As Pingap: with --admin, a broken config starts empty (the admin alone) so that it can be fixed in the admin.
    console.error("the config has errors: starting with the admin alone, to fix it there (--admin)");
    result = checkSources([], { amend: admin });
  }
  if (!result.plan) return result.exitCode;
  if (!quick) {
    // Where the admin API (an `admin` plugin, or --admin) reads and writes the config; workers read it from the env.
    setAdminContext({ conf, ...(admin ? { amend: admin } : {}) });
    shareAdminContext(conf, adminSpec(typeof values.admin === "string" ? values.admin : undefined, envValue) ?? "");
  }
  const upgrade = values.upgrade || envFlag("PINGAP_UPGRADE");
  const logFile = values.log ?? envValue("PINGAP_LOG");
  // Worker isolates read it to write to the same file.
  if (logFile) Deno.env.set("PINGAP_LOG", logFile);
  try {
    await startAppLog(logFile, result.plan.basic);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  try {
    const acme = quick && "acmeBase" in result ? result.acmeBase : undefined;
    return await run(acme ?? conf, result.plan, {
      autoreload: autoreload && !quick,
      upgrade,
      ...(threads !== undefined ? { threads } : {}),
      ...(quick ? { load: () => checkQuickStart(quick) } : {}),
      ...(adminOnly ? { load: () => Promise.resolve(adminOnly()) } : {}),
      ...amend,
    });
  } finally {
    await flushAppLog();
  }
}

/**
 * The `--admin` flag (or its environment fallbacks) as the compiler's `amend`; undefined without it, or why it is
 * refused: a spec that does not parse, the quick start, or no credentials on an address other machines reach.
 */
function adminOption(flag: string | undefined, quick: boolean): ReturnType<typeof adminAmend> | string | undefined {
  const spec = adminSpec(flag, envValue);
  if (spec === undefined) return undefined;
  if (quick) return "--admin with the quick start (--upstream) is not supported: write a config and use -c";
  const parsed = parseAdminFlag(spec);
  if (typeof parsed === "string") return parsed;
  const host = parsed.addr.slice(0, parsed.addr.lastIndexOf(":"));
  if (!parsed.authorization && !isLoopbackHost(host)) {
    return `--admin on ${parsed.addr} without credentials would let anyone who reaches it change the config: ` +
      "give user:password@ (or PINGAP_ADMIN_USER and PINGAP_ADMIN_PASSWORD), or listen on 127.0.0.1";
  }
  if (!isLoopbackHost(host)) {
    console.error(`warning: the admin listens on ${parsed.addr}, which other machines may reach (docs/admin.md)`);
  }
  return adminAmend(parsed);
}

/** Runs `fn` on a private file holding the generated config, so what works on a -c config works on it. */
async function withQuickStartFile<T>(text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "pingap-quick-start-" });
  try {
    await Deno.writeTextFile(`${dir}/pingap.toml`, text);
    return await fn(`${dir}/pingap.toml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `--live` with the quick start: the live checks of a -c config (host names resolve, certificate files parse). */
async function liveQuickStart(quick: QuickStartFlags) {
  const checked = await checkQuickStart(quick);
  if (checked.text === undefined || !checked.plan) return checked;
  const live = await withQuickStartFile(checked.text, (file) => checkConfig(file, { live: true }));
  const { origins: _o, sources: _s, ...rest } = live;
  return {
    ...rest,
    diagnostics: flagDiagnostics(live.diagnostics),
    ...(checked.acmeBase ? { acmeBase: checked.acmeBase } : {}),
  };
}

/** `--to-hcl` / `--to-kdl`: the config, once it passes check, printed in that format. */
async function printConverted(quick: QuickStartFlags | undefined, conf: string, to: "hcl" | "kdl"): Promise<number> {
  let checked;
  let sources: readonly Source[] | undefined;
  if (quick) {
    const q = checked = await checkQuickStart(quick);
    sources = q.text === undefined ? undefined : [{ file: QUICK_START_FILE, text: q.text }];
  } else sources = (checked = await checkConfig(conf)).sources;
  if (checked.readError) {
    console.error(checked.readError);
    return 2;
  }
  report(checked.diagnostics, "text", conf);
  if (!checked.plan || !sources) return 1;
  try {
    console.log(exportConfig(sources, to).trimEnd());
  } catch (e) {
    if (!(e instanceof ConfigReadError)) throw e;
    console.error(`--to-${to}: ${e.message}`);
    return 1;
  }
  return 0;
}

/** `--sync` with the quick start: the generated config, once it compiles, copied as a config file would be. */
async function syncQuickStart(quick: QuickStartFlags, target: string): Promise<number> {
  const checked = await checkQuickStart(quick);
  if (checked.readError) {
    console.error(checked.readError);
    return 2;
  }
  report(checked.diagnostics, "text", QUICK_START_FILE);
  if (!checked.plan || checked.text === undefined) return 1;
  return await withQuickStartFile(checked.text, (file) => syncConfig(file, target, () => {}));
}

function report(d: Parameters<typeof formatText>[0], format: Format, conf: string): void {
  if (format === "json") console.log(formatJson(d));
  else if (format === "github") {
    if (d.length) console.log(formatGithub(d));
  } else if (d.length) {
    console.error(formatText(d, { color: Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR") }));
  }
  const errors = d.filter((x) => x.severity === "error").length;
  if (format === "text") {
    const warnings = d.length - errors;
    console.error(
      errors
        ? `${errors} error(s), ${warnings} warning(s) in ${conf}`
        : `${conf}: OK${warnings ? ` (${warnings} warning(s))` : ""}`,
    );
  }
}
