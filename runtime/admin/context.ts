/**
 * What the admin API needs from the process, given once by the command line
 * and the run loop: where the config is stored, the command line's
 * additions to it (`--admin`), and the reload that applies a saved change.
 * An isolate without it (a worker isolate, a test harness) serves the
 * admin's read-only routes from its own generation and refuses config
 * routes with 503.
 *
 * @module
 */
import type { Plan, RawTree } from "../../compiler/mod.ts";

/** The process's admin context. */
export interface AdminContext {
  /** The `-c` path (file or directory) or `etcd://` URL the config is read from and written to. */
  readonly conf?: string;
  /** The command line's additions (`--admin`), applied to every compile the API makes, as at start and reload. */
  readonly amend?: (raw: RawTree) => RawTree;
  /**
   * Applies the stored config through the process's reload path (the one SIGHUP takes); resolves when it is done
   * with the plan serving after it (the old one when the reload failed).
   */
  readonly reload?: (reason: string) => Promise<Plan>;
  /** The plan serving now (what a dry run's diff starts from). */
  readonly current?: () => Plan;
  /** `/restart`: Pingap re-executes itself; here it is the same reload (every change is applied in place). */
  readonly restart?: () => Promise<Plan>;
}

let context: AdminContext = {};

/** Adds to the admin context (the CLI gives `conf` and `amend`, the run loop `reload`). */
export function setAdminContext(more: AdminContext): void {
  context = { ...context, ...more };
}

/** The admin context of this isolate. */
export function adminContext(): AdminContext {
  return context;
}
