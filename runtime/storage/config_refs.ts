/**
 * The machine's half of `$ENV:NAME` / `$FILE:/path` references
 * (compiler/config_refs.ts holds the rules): a {@linkcode RefResolver}
 * that reads the process environment and files. `check`, start and every
 * reload compile with it, so what `check` passes is what runs.
 *
 * Nothing here logs or returns a value in a message: a failure names the
 * variable or the file, never what it holds.
 *
 * @module
 */
import type { Reference, RefLookup, RefResolver } from "../../compiler/mod.ts";

/** The most a referenced file may hold: a certificate chain is a few KiB; more is a path that was not meant. */
export const MAX_REFERENCED_FILE = 1024 * 1024;

/** Where to look: the environment and the home directory (for `~`); the process's by default. */
export interface RefSources {
  readonly env?: (name: string) => string | undefined;
  readonly home?: string;
}

function processEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: the same as unset, and check says so
  }
}

function readEnv(name: string, env: (name: string) => string | undefined): RefLookup {
  const value = env(name);
  if (value === undefined) return { ok: false, message: `Environment variable ${name} is not set` };
  // `NAME: ${NAME}` in a compose file gives an empty variable when the host has none: no credential.
  if (value === "") return { ok: false, message: `Environment variable ${name} is empty` };
  return { ok: true, value };
}

function readFile(path: string, home: string): RefLookup {
  const resolved = path === "~" ? home : path.startsWith("~/") ? home + path.slice(1) : path;
  const fail = (why: string): RefLookup => ({ ok: false, message: `File ${path} ${why}` });
  let file: Deno.FsFile | undefined;
  try {
    const info = Deno.statSync(resolved);
    if (!info.isFile) return fail("is not a regular file");
    if (info.size > MAX_REFERENCED_FILE) return fail(`is larger than ${MAX_REFERENCED_FILE / 1024} KiB`);
    file = Deno.openSync(resolved, { read: true });
    // Bounded on its own: the file may have grown since the stat.
    const buf = new Uint8Array(MAX_REFERENCED_FILE + 1);
    let n = 0;
    while (n < buf.length) {
      const got = file.readSync(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    if (n > MAX_REFERENCED_FILE) return fail(`is larger than ${MAX_REFERENCED_FILE / 1024} KiB`);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      return fail("is not UTF-8 text");
    }
    // The line end an editor or `echo` leaves is no part of the value.
    text = text.replace(/[\r\n]+$/, "");
    if (text === "") return fail("is empty");
    return { ok: true, value: text };
  } catch (e) {
    return fail(`cannot be read: ${(e as Error).name === "NotFound" ? "no such file" : (e as Error).name}`);
  } finally {
    file?.close();
  }
}

/**
 * A resolver over the environment and the file system (synchronous: the
 * compiler calls it while it decodes).
 *
 * @example Usage
 * ```ts
 * import { systemRefResolver } from "./config_refs.ts";
 * const resolve = systemRefResolver({ env: (n) => (n === "TOKEN" ? "t0k3n" : undefined) });
 * const r = resolve({ kind: "env", name: "TOKEN", text: "$ENV:TOKEN" });
 * if (!r.ok || r.value !== "t0k3n") throw new Error();
 * ```
 */
export function systemRefResolver(sources: RefSources = {}): RefResolver {
  const env = sources.env ?? processEnv;
  const home = sources.home ?? processEnv("HOME") ?? "";
  return (ref: Reference) => ref.kind === "env" ? readEnv(ref.name, env) : readFile(ref.path, home);
}
