/**
 * The command line: `check` (the compiler alone) and `start` (the proxy),
 * with Pingap's flags where they make sense, and `PINGAP_*` environment
 * variables as fallbacks.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { checkConfig } from "./storage/mod.ts";
import { type Format, formatGithub, formatJson, formatText } from "../compiler/mod.ts";
import { VERSION } from "./errors.ts";
import { flushAppLog, startAppLog } from "./log/app_log.ts";
import { run } from "./run.ts";
import { syncConfig } from "./sync.ts";

const USAGE = `Usage:
  pingap check -c PATH [--format text|json|github] [--live]
  pingap [start] -c PATH [--autoreload] [--threads N] [--upgrade]
  pingap --template

Options:
  -c, --conf PATH     config file (.toml) or directory of .toml files (env PINGAP_CONF)
  -t, --test          check the config and exit 0/1 (same as "check"), also with "start": never serves
      --format F      check output: text (default), json, github
      --live          check also resolves upstream hosts and reads certificate files
      --autoreload    watch the config and apply changes in place (env PINGAP_AUTORELOAD)
  -a, --autorestart   same as --autoreload here: every change is applied in place (env PINGAP_AUTORESTART)
  -u, --upgrade       take over the ports of the running instance (pid file), which then drains and exits
                      (env PINGAP_UPGRADE)
      --threads N     worker isolates per server, overriding the config (0 = one per core)
      --log PATH      application log file instead of stderr (env PINGAP_LOG)
      --template      print a starter config and exit
      --sync TARGET   copy the config (-c) to an etcd:// URL, a directory or a .toml file, and exit
  -d, --daemon        not supported: run under systemd (see conf/pingap.service)
  -h, --help          this help
  -V, --version       print the version

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
        sync: { type: "string" },
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
  if (values.daemon || envFlag("PINGAP_DAEMON")) {
    console.error(
      "--daemon is not supported: Deno cannot fork. Run under systemd instead: conf/pingap.service is a ready unit.",
    );
    return 2;
  }
  if (values.admin !== undefined) {
    console.error("--admin is not available yet (the admin issue is open)");
    return 2;
  }
  const positional = positionals[0];
  if (positional !== undefined && positional !== "check" && positional !== "start") {
    console.error(`Unknown command "${positional}"\n\n${USAGE}`);
    return 2;
  }
  // -t checks wherever it appears, with `start` too (Pingap's `pingap -c DIR -t && …` recipe): it never serves.
  const command = values.test ? "check" : positional ?? "start";
  const conf = values.conf ?? Deno.env.get("PINGAP_CONF");
  if (!conf) {
    console.error(`Missing -c PATH\n\n${USAGE}`);
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
  if (values.sync !== undefined) return await syncConfig(conf, values.sync, (d) => report(d, "text", conf));
  const result = await checkConfig(conf, { live: values.live ?? false });
  if (result.readError) {
    console.error(result.readError);
    return 2;
  }
  report(result.diagnostics, format, conf);
  if (command === "check" || !result.plan) return result.exitCode;
  const autoreload = values.autoreload || values.autorestart || envFlag("PINGAP_AUTORELOAD") ||
    envFlag("PINGAP_AUTORESTART");
  const upgrade = values.upgrade || envFlag("PINGAP_UPGRADE");
  const logFile = values.log ?? Deno.env.get("PINGAP_LOG");
  // Worker isolates read it to write to the same file.
  if (logFile) Deno.env.set("PINGAP_LOG", logFile);
  await startAppLog(logFile, result.plan.basic);
  try {
    return await run(conf, result.plan, { autoreload, upgrade, ...(threads !== undefined ? { threads } : {}) });
  } finally {
    await flushAppLog();
  }
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
