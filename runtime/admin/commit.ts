/**
 * A config write, the one path every writing route takes: the edit made in
 * memory, the whole resulting config compiled exactly as start and reload
 * compile it (same references resolver, same `--admin` additions), and
 * only then written, recorded in the history, and applied by the process's
 * reload. A config with an error is refused with 400 and its diagnostics;
 * nothing is written. A dry run answers with the diagnostics, what the
 * Plan would change, and the files before and after, and writes nothing.
 *
 * @module
 */
import { checkSources, type Plan, stableHash } from "../../compiler/mod.ts";
import { isTable } from "../../compiler/mod.ts";
import { systemRefResolver } from "../storage/mod.ts";
import { diffPlans } from "../process/plan_diff.ts";
import { log } from "../observe/log/app_log.ts";
import { parse, stringify } from "smol-toml";
import { adminContext } from "./context.ts";
import { maskText, maskTree, secretStrings } from "./secrets.ts";
import { recordHistory } from "./history.ts";
import { diagnosticsJson, failure, json, noContent } from "./reply.ts";
import { applyEdit, type Edit, EditError, readStored, storedTree, writeChanges } from "./store.ts";

/** Who writes and how. */
export interface CommitOptions {
  /** The account (empty without authentication). */
  readonly user: string;
  /** The client's IP, for the log. */
  readonly ip: string;
  /** Compile and answer, write nothing. */
  readonly dryRun: boolean;
  /** The hash of the plan this isolate serves now, when it can tell. */
  readonly serving?: () => string | undefined;
}

/** Only one write at a time: each reads what the previous one wrote. */
let queue: Promise<unknown> = Promise.resolve();

function describe(edit: Edit): string {
  return edit.op === "import"
    ? "import"
    : `${edit.op} ${edit.section}${edit.section === "basic" ? "" : `.${edit.name}`}${
      edit.op === "rename" ? ` to ${JSON.stringify(edit.to)}` : ""
    }`;
}

/** A TOML text with its secrets masked (secrets.ts); null when it is not there or does not parse. */
function maskToml(text: string | null): string | null {
  if (text === null) return null;
  try {
    return stringify(maskTree(parse(text) as Record<string, unknown>)).trimEnd() + "\n";
  } catch {
    return null;
  }
}

/** Items whose table differs between two trees, as `[section, name, before, after]` (`basic` as its own item). */
function changedItems(before: Record<string, unknown>, after: Record<string, unknown>) {
  const out: [string, string, Record<string, unknown> | undefined, Record<string, unknown> | null][] = [];
  const sections = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const section of sections) {
    const b = before[section];
    const a = after[section];
    if (section === "basic") {
      if (stableHash(b ?? null) !== stableHash(a ?? null)) {
        out.push(["basic", "", isTable(b) ? b : undefined, isTable(a) ? a : null]);
      }
      continue;
    }
    const bi = isTable(b) ? b : {};
    const ai = isTable(a) ? a : {};
    for (const name of new Set([...Object.keys(bi), ...Object.keys(ai)])) {
      if (stableHash(bi[name] ?? null) === stableHash(ai[name] ?? null)) continue;
      const was = bi[name];
      const now = ai[name];
      out.push([section, name, isTable(was) ? was : undefined, isTable(now) ? now : null]);
    }
  }
  return out;
}

/** Resolves true once `serving()` says `hash` serves; never when it cannot tell, or once `done` settled. */
async function switchedTo(
  hash: string,
  serving: (() => string | undefined) | undefined,
  done: Promise<unknown>,
): Promise<boolean> {
  if (!serving) return await new Promise<boolean>(() => {});
  let settled = false;
  done.finally(() => settled = true).catch(() => {});
  while (!settled) {
    if (serving() === hash) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return await new Promise<boolean>(() => {});
}

/** Makes an edit: refused (400), previewed (dry run), or written and applied. */
export function commit(edit: Edit, options: CommitOptions): Promise<Response> {
  const next = queue.then(() => commitNow(edit, options));
  queue = next.catch(() => {});
  return next;
}

async function commitNow(edit: Edit, options: CommitOptions): Promise<Response> {
  const context = adminContext();
  const conf = context.conf;
  if (!conf) {
    return failure(503, "The config is not stored anywhere this admin can write (the proxy was not started with -c)");
  }
  const stored = await readStored(conf);
  let result;
  try {
    result = applyEdit(stored, edit);
  } catch (e) {
    if (!(e instanceof EditError)) throw e;
    log.warn(`admin: refused ${describe(edit)} by "${options.user}" from ${options.ip}: ${e.message}`);
    return failure(400, e.message);
  }
  const checked = checkSources(result.sources, {
    resolveRefs: systemRefResolver(),
    ...(context.amend ? { amend: context.amend } : {}),
  });
  // A message may quote a value: a secret it quotes reads as the API shows it.
  const secrets = [
    ...secretStrings(storedTree(stored)),
    ...secretStrings(storedTree({ ...stored, sources: result.sources })),
  ].sort((x, y) => y[0].length - x[0].length);
  const diagnostics = diagnosticsJson(checked.diagnostics).map((d) => ({
    ...d,
    message: maskText(d.message, secrets),
    ...(d.hint !== undefined ? { hint: maskText(d.hint, secrets) } : {}),
  }));
  if (!checked.plan) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    log.warn(
      `admin: refused ${describe(edit)} by "${options.user}" from ${options.ip}: ${errors.length} config error(s): ` +
        errors.slice(0, 3).map((d) => `${d.key}: ${d.message}`).join("; "),
    );
    return failure(400, `The change would break the config (${errors.length} error(s)): nothing was saved`, {
      diagnostics,
    });
  }
  const current: Plan | undefined = context.current?.();
  const planChanges = current ? diffPlans(current, checked.plan) : [];
  if (options.dryRun) {
    const files = result.changes.map((c) => ({ file: c.file, before: maskToml(c.before), text: maskToml(c.text) }));
    return json({ ok: true, diagnostics, changes: planChanges, files });
  }
  await writeChanges(stored, result.changes);
  const after = storedTree({ ...stored, sources: result.sources });
  for (const [section, name, was, now] of changedItems(storedTree(stored), after)) {
    try {
      await recordHistory(conf, section, name, was, now, options.user);
    } catch (e) {
      log.warn(`admin: history of ${section}.${name} not kept: ${(e as Error).message}`);
    }
  }
  log.info(
    `admin: ${describe(edit)} saved by "${options.user}" from ${options.ip}: ${
      planChanges.join("; ") || "no change to the plan"
    }`,
  );
  if (!context.reload) return json({ applied: false, message: "Saved; no reload path in this isolate" }, 202);
  const want = checked.plan.hash;
  const reloaded = context.reload(`admin ${describe(edit)}`);
  // The reload ends once the old generation drained, and this very request is in flight on it: the answer goes as
  // soon as the new plan serves (it then drains at once), or when the reload ended without it.
  const applied = await Promise.race([
    reloaded.then((p) => p?.hash === want),
    switchedTo(want, options.serving, reloaded),
  ]);
  if (!applied) {
    return json({ applied: false, message: "Saved, but the reload did not apply it: see the process log" }, 202);
  }
  return noContent();
}
