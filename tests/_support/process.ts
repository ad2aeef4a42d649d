/**
 * Child processes for the runtime tests: the proxy in its own process
 * (`proxy_main.ts`) or the CLI, with its output collected, its peak RSS
 * read from `/proc`, and a clean SIGTERM stop.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A running child process. */
export interface Child {
  readonly pid: number;
  /** stdout and stderr so far (interleaved per chunk). */
  output(): string;
  /** Resolves once `pattern` appears in the output (fails after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Peak resident set size (VmHWM), bytes. */
  peakRss(): Promise<number>;
  /** SIGTERM, then waits; returns the exit code. */
  stop(): Promise<number>;
  /** Waits for the process to exit on its own; returns the exit code. */
  exited(): Promise<number>;
}

/** Spawns `deno <args>` in the repository root (or `options.cwd`), with `options.env` added to its environment. */
export function spawnDeno(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Child {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  let out = "";
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      out += decoder.decode(chunk, { stream: true });
      for (const w of waiters) w();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    for (const w of waiters) w();
    return s;
  });
  return {
    pid: child.pid,
    output: () => out,
    waitFor(pattern, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${ms} ms; output:\n${out}`));
        }, ms);
        function check(): void {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(m);
          } else if (exited) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`exited before ${pattern}; output:\n${out}`));
          }
        }
        waiters.add(check);
        check();
      });
    },
    async peakRss() {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const m = status.match(/^VmHWM:\s+(\d+) kB/m);
      assert.ok(m, "VmHWM in /proc/<pid>/status");
      return Number(m[1]) * 1024;
    },
    async exited() {
      const s = await status;
      await pumps;
      return s.code;
    },
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Exited meanwhile.
        }
      }
      const kill = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Exited.
        }
      }, 15_000);
      const s = await status;
      clearTimeout(kill);
      await pumps;
      return s.code;
    },
  };
}

/** `deno` arguments that start the CLI (`mod.ts start -c`): the config path goes last. */
export const START_ARGS = ["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c"];

/**
 * Starts `proxy_main.ts` on a TOML text; resolves with the child and its port. `extra` goes after the config path
 * (`--access-log`: the config's access log instead of none).
 */
export async function spawnProxy(
  toml: string,
  extra: readonly string[] = [],
): Promise<{ child: Child; port: number; file: string }> {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, toml);
  const child = spawnDeno([
    "run",
    "-A",
    "--unstable-net",
    "--unstable-no-legacy-abort",
    "tests/_support/proxy_main.ts",
    file,
    ...extra,
  ]);
  try {
    const m = await child.waitFor(/listening (\d+)/);
    return { child, port: Number(m[1]), file };
  } catch (e) {
    await child.stop();
    await Deno.remove(file);
    throw e;
  }
}

/** `mod.ts start -c <config> --admin <admin>` in its own process, run from `cwd` (where relative paths resolve). */
export function startWithAdmin(config: string, admin: string, cwd: string): Child {
  return spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", config, "--admin", admin], { cwd });
}

/** `mod.ts check -c <file>` on `text` written to a temporary file: its exit code and output. */
export async function checkText(text: string): Promise<{ code: number; out: string }> {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(file, text);
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    return { code: await child.exited(), out: child.output() };
  } finally {
    await Deno.remove(file);
  }
}
