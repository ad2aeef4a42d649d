/**
 * A generation: everything one Plan needs at run time, owned by one object. It holds the activated plan (plugin
 * instances, upstreams, server metrics and observers with their access logs and trace pipelines), its listeners, the
 * config certificates it put in the store, and the notifier of its `[basic]`. What outlives a plan is passed in as
 * {@linkcode ProxyParts}: the upstream state, metric registries, access-log files, certificate store and ACME tokens,
 * each shared by key and reference-counted so a generation that keeps a thing keeps its state.
 *
 * {@linkcode buildGeneration} builds one fully (taking over the previous generation's listeners it keeps) or, when any
 * part fails, disposes what it built, puts the certificates back and throws: the previous one serves on, untouched.
 * `serve.ts` swaps, drains and disposes.
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import { activate, type ActivateOptions } from "./activate.ts";
import type { ActivePlan } from "./active.ts";
import { type Listener, type ListenerOptions, openListener, wantedListeners } from "./listeners.ts";
import type { Serving } from "./respond.ts";
import { loadPlanCertificates } from "../tls/mod.ts";
import { createNotifier, type Notifier } from "../observe/notify.ts";
import { prepareTracing } from "../observe/otel/load.ts";

/** What outlives a generation: made once per proxy, handed to each generation it builds. */
export interface ProxyParts extends ActivateOptions, ListenerOptions {}

/** Everything one Plan needs at run time. */
export interface Generation {
  readonly plan: Plan;
  /** What requests read: plugin instances, upstreams, servers with their metrics and observers. */
  readonly active: ActivePlan;
  /** Its listeners by key; those it kept from the previous generation are the same objects. */
  readonly listeners: Map<string, Listener>;
  /** The webhook notifier of its `[basic]`: everything that reports while it serves shares one batch. */
  readonly notifier: Notifier;
  /** Frees the activated plan (plugins, upstream leases, observers, metrics); listeners are stopped by their owner. */
  dispose(): Promise<void>;
}

/**
 * Builds the generation of `plan`, ready to serve: tracing modules loaded, certificates in the store, plan activated,
 * every listener up (those of `previous` with the same key are kept, not reopened). Its listeners read the plan to
 * serve from `serving`; the first generation (no `previous`) is put there before its listeners open, a later one
 * serves once the caller swaps it in.
 *
 * A listener of `previous` that `plan` no longer wants and that holds a port the new one needs is stopped first
 * (then the bind is tried again once); it stays stopped even when the build fails later.
 *
 * @throws What failed (a certificate, a bind); what was built is disposed and the store is as it was.
 */
export async function buildGeneration(
  plan: Plan,
  parts: ProxyParts,
  serving: Serving,
  previous?: Generation,
): Promise<Generation> {
  await prepareTracing(plan);
  // Certificates first, so the listeners this plan opens have them; undone if the build fails.
  const undoCertificates = await loadPlanCertificates(plan, parts.certificates, parts.warn ?? (() => {}));
  let active: ActivePlan;
  try {
    active = activate(plan, parts, previous?.active);
  } catch (e) {
    undoCertificates();
    throw e;
  }
  if (!previous) serving.active = active;
  const want = wantedListeners(plan);
  const kept = previous?.listeners ?? new Map<string, Listener>();
  const removed = [...kept.values()].filter((l) => !want.has(l.key));
  const listeners = new Map<string, Listener>();
  const opened: Listener[] = [];
  try {
    for (const [key, w] of want) {
      const old = kept.get(key);
      if (old) {
        listeners.set(key, old);
        continue;
      }
      let l: Listener;
      try {
        l = await openListener(w, active, serving, parts);
      } catch (e) {
        // The port may still be held by a listener this plan removes: free it first, then retry once.
        const blocking = removed.filter((r) => r.addr.port === w.port && kept.get(r.key) === r);
        if (!(e instanceof Deno.errors.AddrInUse) || blocking.length === 0) throw e;
        for (const r of blocking) {
          kept.delete(r.key);
          await r.shutdown();
        }
        l = await openListener(w, active, serving, parts);
      }
      opened.push(l);
      listeners.set(key, l);
    }
  } catch (e) {
    await Promise.allSettled(opened.map((l) => l.shutdown()));
    await active.dispose();
    undoCertificates();
    throw e;
  }
  return {
    plan,
    active,
    listeners,
    notifier: createNotifier(plan.basic),
    dispose: () => active.dispose(),
  };
}

/** The listeners of `old` that `next` did not keep: retired once `next` serves. */
export function leftBehind(old: Generation, next: Generation): Listener[] {
  return [...old.listeners.values()].filter((l) => next.listeners.get(l.key) !== l);
}
