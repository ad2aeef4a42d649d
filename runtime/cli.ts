/**
 * The command line: `check` (the compiler alone) and `start` (the proxy).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { checkConfig } from "../compiler/check.ts";
import { type Format, formatGithub, formatJson, formatText } from "../compiler/format.ts";
import type { Plan } from "../compiler/plan.ts";
import { startProxy } from "./start.ts";
import { startWorkers, workerCount } from "./workers.ts";

const VERSION = "0.1.0";

const USAGE = `Usage:
  pingap check -c PATH [--format text|json|github] [--live]
  pingap [start] -c PATH

Options:
  -c, --conf PATH   config file (.toml) or directory of .toml files (env PINGAP_CONF)
  -t, --test        check the config and exit (same as "check")
      --format F    check output: text (default), json, github
      --live        check also resolves upstream hosts and reads certificate files
  -h, --help        this help
  -V, --version     print the version`;

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
    console.log(`pingap-deno ${VERSION}`);
    return 0;
  }
  const command = positionals[0] ?? (values.test ? "check" : "start");
  if (command !== "check" && command !== "start") {
    console.error(`Unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
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
  const result = await checkConfig(conf, { live: values.live ?? false });
  if (result.readError) {
    console.error(result.readError);
    return 2;
  }
  const d = result.diagnostics;
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
  if (command === "check" || !result.plan) return result.exitCode;
  return await run(result.plan);
}

/** Serves a plan until SIGINT/SIGTERM, then shuts down gracefully. */
async function run(plan: Plan): Promise<number> {
  const count = workerCount(plan);
  let stop: () => Promise<void>;
  try {
    if (count <= 1) {
      const proxy = await startProxy(plan);
      for (const l of proxy.listening) console.error(`server ${l.server} listening on http://${l.hostname}:${l.port}`);
      stop = () => proxy.shutdown();
    } else {
      const group = await startWorkers(plan, count);
      for (const s of plan.servers) {
        console.error(
          `server ${s.name} listening on ${
            s.addrs.map((a) => `${a.hostname}:${a.port}`).join(", ")
          } with ${count} workers`,
        );
      }
      stop = () => group.shutdown();
    }
  } catch (e) {
    console.error(`Cannot start: ${(e as Error).message}`);
    return 1;
  }
  const done = Promise.withResolvers<void>();
  const onSignal = () => done.resolve();
  for (const sig of ["SIGINT", "SIGTERM", "SIGQUIT"] as const) Deno.addSignalListener(sig, onSignal);
  await done.promise;
  console.error("shutting down");
  await stop();
  return 0;
}

/** A short human summary of a plan. */
export function summary(plan: Plan): string {
  const lines = [
    `plan ${plan.hash}: ${plan.servers.length} server(s), ${plan.locations.length} location(s), ${plan.upstreams.length} upstream(s), ${plan.plugins.length} plugin(s)`,
  ];
  for (const s of plan.servers) {
    lines.push(
      `  server ${s.name} on ${
        s.addrs.map((a) => a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`).join(
          ", ",
        )
      }`,
    );
    for (const i of s.locations) {
      const l = plan.locations[i]!;
      const up = l.upstream.kind === "upstream"
        ? plan.upstreams[l.upstream.index]!.name
        : l.upstream.kind === "variable"
        ? `$${l.upstream.name}`
        : "-";
      lines.push(
        `    ${String(l.weight).padStart(5)}  ${l.name} -> ${up}${
          l.plugins.length ? ` [${l.plugins.map((p) => plan.plugins[p]!.name).join(", ")}]` : ""
        }`,
      );
    }
  }
  return lines.join("\n");
}
