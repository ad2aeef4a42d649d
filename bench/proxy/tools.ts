/**
 * The programs the proxy bench drives (nginx, HAProxy, wrk, h2load), found
 * or installed through `tests/components.ts` (apt-get as root). A missing
 * one never fails the bench: its rows are printed as skipped.
 *
 * @module
 */
import { requireComponent } from "../../tests/components.ts";

/** Absolute paths of the tools found; a missing tool is undefined. */
export interface BenchTools {
  readonly nginx?: string;
  readonly haproxy?: string;
  readonly wrk?: string;
  readonly h2load?: string;
  readonly prlimit?: string;
  /** The hard open-file limit: children and this process raise their soft limit to it. */
  readonly fileLimit: number;
}

async function find(
  name: "nginx" | "haproxy" | "wrk" | "h2load",
  binary: string,
  pkg: string,
): Promise<string | undefined> {
  try {
    const found = await requireComponent(name, { binaries: [binary], aptPackages: [pkg] });
    return found?.[binary];
  } catch (e) {
    // CI=true makes a missing component throw; a bench reports and goes on.
    console.warn(`[bench] ${name}: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
}

/**
 * Finds (installing when root) nginx, haproxy, wrk and h2load.
 *
 * @returns The paths found.
 */
export async function findTools(): Promise<BenchTools> {
  const nginx = await find("nginx", "nginx", "nginx");
  const haproxy = await find("haproxy", "haproxy", "haproxy");
  const wrk = await find("wrk", "wrk", "wrk");
  const h2load = await find("h2load", "h2load", "nghttp2-client");
  const prlimit = (await Deno.stat("/usr/bin/prlimit").catch(() => null)) ? "/usr/bin/prlimit" : undefined;
  return {
    fileLimit: await hardFileLimit(),
    ...(nginx ? { nginx } : {}),
    ...(haproxy ? { haproxy } : {}),
    ...(wrk ? { wrk } : {}),
    ...(h2load ? { h2load } : {}),
    ...(prlimit ? { prlimit } : {}),
  };
}

async function hardFileLimit(): Promise<number> {
  const out = await new Deno.Command("sh", { args: ["-c", "ulimit -Hn"], stdout: "piped", stderr: "null" }).output()
    .catch(() => null);
  const n = Number(new TextDecoder().decode(out?.stdout ?? new Uint8Array()).trim());
  // "unlimited" or nothing: ask for what 10,000 connections need.
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1_048_576) : 65_536;
}

/** Raises this process's soft open-file limit to the hard one (for 10,000 client sockets); false when it cannot. */
export async function raiseFileLimit(tools: BenchTools): Promise<boolean> {
  if (!tools.prlimit) return false;
  const limit = tools.fileLimit;
  const out = await new Deno.Command(tools.prlimit, {
    args: ["--pid", String(Deno.pid), `--nofile=${limit}:${limit}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}
