/**
 * Password hashes checked off the request path: one worker per isolate
 * (password_hash_worker.ts, started at the first hash, ended when the last
 * plugin that holds it lets go), one hash at a time, the rest waiting their
 * turn in order. A hash that cannot be
 * computed (the worker failed) is a wrong password: fail closed.
 *
 * @module
 */
import type { PasswordHashKind } from "../../compiler/mod.ts";
import { appLog } from "../observe/log/app_log.ts";

/** A waiting verification: asked `stillWanted` when its turn comes. */
interface Waiting {
  readonly kind: PasswordHashKind;
  readonly password: Uint8Array;
  readonly hash: string;
  readonly stillWanted: () => boolean;
  readonly resolve: (ok: boolean | undefined) => void;
}

/** Hashes waiting at most; past that a verification fails at once (a flood of guesses costs no memory). */
export const MAX_WAITING = 1024;

let worker: Worker | undefined;
let holders = 0;
let nextId = 1;
const queue: Waiting[] = [];
let running: { readonly id: number; readonly resolve: (ok: boolean | undefined) => void } | undefined;

function start(): Worker {
  const w = new Worker(new URL("./password_hash_worker.ts", import.meta.url), { type: "module" });
  w.onmessage = (e: MessageEvent<{ id: number; ok: boolean }>) => {
    if (running?.id !== e.data.id) return;
    const done = running;
    running = undefined;
    done.resolve(e.data.ok === true);
    next();
  };
  w.onerror = (e) => {
    e.preventDefault();
    appLog("error", "password hash worker failed", { error: e.message });
    w.terminate();
    if (worker === w) worker = undefined;
    const failed = running;
    running = undefined;
    failed?.resolve(false);
    next();
  };
  return w;
}

function next(): void {
  while (running === undefined && queue.length > 0) {
    const job = queue.shift()!;
    // Where requests pile up: a client's failures may have blocked it while it waited.
    if (!job.stillWanted()) {
      job.resolve(undefined);
      continue;
    }
    const id = nextId++;
    running = { id, resolve: job.resolve };
    try {
      worker ??= start();
      worker.postMessage({ id, kind: job.kind, password: job.password, hash: job.hash });
    } catch (e) {
      appLog("error", "password hash worker failed", { error: e instanceof Error ? e.message : String(e) });
      running = undefined;
      job.resolve(false);
    }
  }
}

/**
 * Whether `password` is the one `hash` (of `kind`) was made of; undefined when `stillWanted`, asked as the
 * verification gets its turn, says no; false at once when {@linkcode MAX_WAITING} are already waiting.
 */
export function verifyPasswordHash(
  kind: PasswordHashKind,
  password: Uint8Array,
  hash: string,
  stillWanted: () => boolean = () => true,
): Promise<boolean | undefined> {
  if (queue.length >= MAX_WAITING) return Promise.resolve(false);
  return new Promise((resolve) => {
    queue.push({ kind, password, hash, stillWanted, resolve });
    next();
  });
}

/** Notes a plugin instance that will ask for hashes (call {@linkcode releasePasswordVerifier} when it is disposed). */
export function holdPasswordVerifier(): void {
  holders++;
}

/** The plugin instance no longer asks; the last one out ends the worker (a hash in progress is then a failure). */
export function releasePasswordVerifier(): void {
  if (--holders > 0) return;
  holders = 0;
  worker?.terminate();
  worker = undefined;
  const cut = running;
  running = undefined;
  cut?.resolve(false);
  for (const job of queue.splice(0)) job.resolve(false);
}
