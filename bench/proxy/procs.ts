/**
 * Server processes of the proxy bench: spawned with a raised open-file
 * limit, waited for until their port answers, measured (RSS of the process
 * and its children from `/proc`) and stopped by their own pid.
 *
 * @module
 */

/** A server process the bench started. */
export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Resident set size of the process and its descendants, bytes. */
  rss(): Promise<number>;
  /** CPU time used by the process and its descendants so far, µs. */
  cpu(): Promise<number>;
  /** SIGTERM (SIGKILL after 5 s), then waits. */
  stop(): Promise<void>;
}

/** How to start one server. */
export interface SpawnSpec {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  /** The port it listens on (waited for). */
  readonly port: number;
  /** Where stdout and stderr go (a file), so a chatty server cannot block on a pipe. */
  readonly logFile: string;
  readonly cwd?: string;
  /** `prlimit` path and the open-file limit to give the child. */
  readonly prlimit?: { readonly path: string; readonly nofile: number };
  /** Environment variables to add. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A free loopback TCP port (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, ms: number, logFile: string): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const until = Date.now() + ms;
  while (Date.now() < until && !exited) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const log = await Deno.readTextFile(logFile).catch(() => "");
  throw new Error(`Cannot start server on port ${port}: ${exited ? "it exited" : "no answer"}\n${log.slice(-2000)}`);
}

async function children(): Promise<Map<number, number[]>> {
  const byParent = new Map<number, number[]>();
  for await (const e of Deno.readDir("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!byParent.has(ppid)) byParent.set(ppid, []);
    byParent.get(ppid)!.push(pid);
  }
  return byParent;
}

async function sumTree(pid: number, each: (pid: number) => Promise<number>): Promise<number> {
  const byParent = await children();
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    total += await each(p);
    todo.push(...(byParent.get(p) ?? []));
  }
  return total;
}

/** VmRSS of `pid` and all its descendants, bytes. */
export function treeRss(pid: number): Promise<number> {
  return sumTree(pid, async (p) => {
    const status = await Deno.readTextFile(`/proc/${p}/status`).catch(() => "");
    const m = status.match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  });
}

/** CPU time (user + system) used so far by `pid` and its descendants, µs (clock ticks of 10 ms). */
export function treeCpu(pid: number): Promise<number> {
  return sumTree(pid, async (p) => {
    const stat = await Deno.readTextFile(`/proc/${p}/stat`).catch(() => "");
    if (stat === "") return 0;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10_000;
  });
}

/**
 * Starts a server and waits until its port accepts connections.
 *
 * @param spec What to run.
 * @returns The running process.
 */
export async function spawnServer(spec: SpawnSpec): Promise<BenchProcess> {
  const log = await Deno.open(spec.logFile, { write: true, create: true, truncate: true });
  const [cmd, args] = spec.prlimit
    ? [spec.prlimit.path, [`--nofile=${spec.prlimit.nofile}:${spec.prlimit.nofile}`, "--", spec.cmd, ...spec.args]]
    : [spec.cmd, [...spec.args]];
  const child = new Deno.Command(cmd, {
    args,
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...spec.env },
  }).spawn();
  // Both streams into one file; each write is whole chunks, so lines stay readable enough.
  const sink = log.writable.getWriter();
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) await sink.write(chunk);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).finally(() => sink.close().catch(() => {}));
  try {
    await waitForPort(spec.port, child, 60_000, spec.logFile);
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    throw e;
  }
  return {
    name: spec.name,
    pid: child.pid,
    port: spec.port,
    rss: () => treeRss(child.pid),
    cpu: () => treeCpu(child.pid),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await child.status;
      clearTimeout(timer);
      await drained.catch(() => {});
    },
  };
}
