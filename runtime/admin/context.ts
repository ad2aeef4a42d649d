/**
 * What the admin API needs from the process: where the config is stored,
 * the command line's additions to it (`--admin`), and the reload that
 * applies a saved change. The CLI gives the first two, the run loop the
 * reload (the very one SIGHUP takes).
 *
 * Worker isolates (`threads` > 1) share no module state with the main
 * isolate: the CLI also puts the `-c` path and the `--admin` value in the
 * process environment (`PINGAP_ADMIN_CONTEXT`, read once here), and a worker
 * applies a saved change by sending SIGHUP to its own process, then sees it
 * served when the main isolate swaps the workers' plan. An isolate with
 * neither (a test harness) serves the read-only routes and answers config
 * routes with 503.
 *
 * @module
 */
import type { Plan, RawTree } from "../../compiler/mod.ts";
import { adminAmend, parseAdminFlag } from "./flag.ts";

/** The process's admin context. */
export interface AdminContext {
  /** The `-c` path (file or directory) or `etcd://` URL the config is read from and written to. */
  readonly conf?: string;
  /** The command line's additions (`--admin`), applied to every compile the API makes, as at start and reload. */
  readonly amend?: (raw: RawTree) => RawTree;
  /**
   * Applies the stored config through the process's reload path (the one SIGHUP takes); resolves when it is done
   * with the plan serving after it (the old one when the reload failed), or undefined when this isolate cannot tell.
   */
  readonly reload?: (reason: string) => Promise<Plan | undefined>;
  /** The plan serving now (what a dry run's diff starts from). */
  readonly current?: () => Plan;
}

/** The environment variable a worker isolate reads its context from. */
const ENV = "PINGAP_ADMIN_CONTEXT";

/** How long a worker waits to see a reload it asked for served. */
const WORKER_RELOAD_MS = 30_000;

let context: AdminContext | undefined;

/** Adds to the admin context (the CLI gives `conf` and `amend`, the run loop `reload` and `current`). */
export function setAdminContext(more: AdminContext): void {
  context = { ...context, ...more };
}

/** Gives worker isolates the `-c` path and the `--admin` value, "" without one (see the module doc). */
export function shareAdminContext(conf: string, spec: string): void {
  Deno.env.set(ENV, JSON.stringify({ conf, spec }));
}

function fromEnvironment(): AdminContext {
  let shared: { conf?: unknown; spec?: unknown };
  try {
    shared = JSON.parse(Deno.env.get(ENV) ?? "{}");
  } catch {
    return {};
  }
  if (typeof shared.conf !== "string" || typeof shared.spec !== "string") return {};
  const flag = shared.spec === "" ? undefined : parseAdminFlag(shared.spec);
  if (typeof flag === "string") return {};
  return {
    conf: shared.conf,
    ...(flag ? { amend: adminAmend(flag) } : {}),
    async reload() {
      Deno.kill(Deno.pid, "SIGHUP");
      await new Promise((r) => setTimeout(r, WORKER_RELOAD_MS));
      return undefined;
    },
  };
}

/** The admin context of this isolate. */
export function adminContext(): AdminContext {
  context ??= fromEnvironment();
  return context;
}
