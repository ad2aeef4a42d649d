/**
 * Upgrade without downtime. Every listener of the CLI is bound with
 * SO_REUSEPORT, so a new process started with `--upgrade` binds the same
 * ports while the old one still serves, then tells the old one (found by
 * the pid file) to drain and exit with SIGQUIT. Pingap hands listening
 * sockets over a unix socket instead; Deno cannot pass descriptors.
 *
 * Without `--upgrade`, a port that is already bound is an error: sharing a
 * port with a stranger by accident would split its traffic silently.
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";

const DEFAULT_PID_FILES = ["/run/pingap.pid", "/var/run/pingap.pid", "/tmp/pingap.pid"];

function writable(dir: string): boolean {
  try {
    const probe = `${dir}/.pingap-${Deno.pid}`;
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** The pid file of a plan: `basic.pid_file`, else the first writable default. */
export function pidFilePath(plan: Plan): string {
  if (plan.basic.pid_file) return plan.basic.pid_file;
  for (const path of DEFAULT_PID_FILES) {
    if (writable(path.slice(0, path.lastIndexOf("/")))) return path;
  }
  return DEFAULT_PID_FILES[DEFAULT_PID_FILES.length - 1]!;
}

/** The pid written in `path`, if the file exists and holds one. */
export function readPid(path: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Is a process with this pid running (Linux: `/proc/<pid>` exists)? */
export function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Writes our pid; returns a function that removes the file if it still names us. */
export function writePidFile(path: string): () => void {
  try {
    Deno.writeTextFileSync(path, `${Deno.pid}\n`);
  } catch (e) {
    console.error(`cannot write pid file ${path}: ${(e as Error).message}`);
    return () => {};
  }
  return () => {
    if (readPid(path) !== Deno.pid) return;
    try {
      Deno.removeSync(path);
    } catch { /* already gone */ }
  };
}

/**
 * Addresses of the plan that something already listens on. Binding
 * without SO_REUSEPORT fails when any socket holds the port; the probe is
 * closed at once. Port 0 (any free port) is never busy.
 */
export function busyAddresses(plan: Plan): string[] {
  const busy: string[] = [];
  for (const s of plan.servers) {
    for (const a of s.addrs) {
      if (a.port === 0) continue;
      try {
        Deno.listen({ hostname: a.hostname, port: a.port }).close();
      } catch (e) {
        if (e instanceof Deno.errors.AddrInUse) busy.push(`${a.hostname}:${a.port} (server ${s.name})`);
        else throw e;
      }
    }
  }
  return busy;
}

/**
 * After our listeners are up: asks the process named by the pid file to
 * drain and exit (SIGQUIT). Returns its pid, or undefined when there was
 * nobody to take over from.
 */
export function takeOver(pidFile: string): number | undefined {
  const old = readPid(pidFile);
  if (old === undefined || old === Deno.pid || !isAlive(old)) return undefined;
  Deno.kill(old, "SIGQUIT");
  return old;
}

/**
 * Linux resets connections still waiting in a closing listener's queue
 * unless `net.ipv4.tcp_migrate_req` is 1 (kernel 5.14+), which moves them to
 * another listener of the same port. Returns advice when it is off.
 */
export function migrateHint(): string | undefined {
  try {
    if (Deno.readTextFileSync("/proc/sys/net/ipv4/tcp_migrate_req").trim() !== "0") return undefined;
  } catch {
    return undefined;
  }
  return "upgrade: net.ipv4.tcp_migrate_req is 0, so connections queued at the old process when it closes its " +
    "ports are reset; `sysctl -w net.ipv4.tcp_migrate_req=1` moves them to this process instead";
}
