/**
 * The figures of the `stats` plugin, with Pingap's keys (inventory §10.7):
 * requests in flight and accepted (process and per location), host and
 * build, uptime, memory (process and system), CPUs, threads, open file
 * descriptors and TCP sockets. `rustc_version` carries Deno's version
 * (`deno_version` too); `heap_used_mb` is ours.
 *
 * @module
 */
import type { ActivePlan } from "../lifecycle/active.ts";
import { VERSION } from "../proxy/errors.ts";
import { humanSize } from "./log/human.ts";
import { fdCount, tcpCount } from "./metrics/process.ts";

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** OS threads of this process (`Threads:` of /proc/self/status), -1 when unknown (as Pingap). */
async function threadCount(): Promise<number> {
  const status = await readText("/proc/self/status");
  const m = status?.match(/^Threads:\s*(\d+)/m);
  return m ? Number(m[1]) : -1;
}

/** Distinct (physical id, core id) pairs of /proc/cpuinfo; the logical count when unknown. */
async function physicalCpus(): Promise<number> {
  const info = await readText("/proc/cpuinfo");
  if (!info) return navigator.hardwareConcurrency;
  const cores = new Set<string>();
  for (const block of info.split("\n\n")) {
    const p = block.match(/^physical id\s*:\s*(\d+)/m)?.[1];
    const c = block.match(/^core id\s*:\s*(\d+)/m)?.[1];
    if (p !== undefined && c !== undefined) cores.add(`${p}/${c}`);
  }
  return cores.size || navigator.hardwareConcurrency;
}

function system(): { total: number; used: number } | undefined {
  try {
    const m = Deno.systemMemoryInfo();
    return { total: m.total, used: m.total - m.available };
  } catch {
    return undefined;
  }
}

/**
 * The stats of this isolate; `active` is the plan serving now (undefined
 * before the first one is active).
 */
export async function processStats(
  active: ActivePlan | undefined,
  startedAt: number,
): Promise<Record<string, unknown>> {
  const mem = Deno.memoryUsage();
  const servers = [...(active?.servers.values() ?? [])];
  const sys = system();
  const [fd, tcp, tcp6, threads, physical] = await Promise.all([
    fdCount(),
    tcpCount("tcp"),
    tcpCount("tcp6"),
    threadCount(),
    physicalCpus(),
  ]);
  return {
    processing: active?.counters.processing ?? 0,
    accepted: active?.counters.accepted ?? 0,
    location_processing: Object.fromEntries(
      servers.flatMap((s) => s.locations.map((l) => [l.plan.name, l.processing])),
    ),
    location_accepted: Object.fromEntries(servers.flatMap((s) => s.locations.map((l) => [l.plan.name, l.accepted]))),
    location_errors: Object.fromEntries(servers.flatMap((s) => s.locations.map((l) => [l.plan.name, l.errors]))),
    hostname: Deno.hostname(),
    version: VERSION,
    rustc_version: `deno ${Deno.version.deno}`,
    deno_version: Deno.version.deno,
    start_time: Math.floor(startedAt / 1000),
    uptime: Math.floor((Date.now() - startedAt) / 1000),
    memory_mb: Math.floor(mem.rss / 1024 / 1024),
    memory: humanSize(mem.rss),
    heap_used_mb: Math.round(mem.heapUsed / 1024 / 1024),
    total_memory: sys ? humanSize(sys.total) : "",
    used_memory: sys ? humanSize(sys.used) : "",
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    physical_cpus: physical,
    kernel: Deno.osRelease(),
    pid: Deno.pid,
    threads,
    fd_count: fd ?? 0,
    tcp_count: tcp ?? 0,
    tcp6_count: tcp6 ?? 0,
  };
}
