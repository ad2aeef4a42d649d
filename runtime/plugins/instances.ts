/**
 * The plugin instances of one generation (one activated Plan). A reload
 * hands the previous generation's instances to the next: an instance whose
 * plugin name and plan `key` (hash of its category, step and resolved keys,
 * so of its compiled config) are unchanged is kept, with its state (counters,
 * caches), as Pingap does; the others are made anew. Both generations hold a
 * kept instance until the old one is disposed; an instance is disposed when
 * the last generation holding it is.
 *
 * @module
 */
import type { PluginPlan } from "../../compiler/mod.ts";
import type { PluginEnv, PluginInstance } from "./contract.ts";
import type { PluginRegistry } from "./registry.ts";

/** An instance and how many generations hold it. */
interface Held {
  readonly instance: PluginInstance;
  holders: number;
}

/** What makes an instance the same across a reload. */
function identity(plan: PluginPlan): string {
  return `${plan.name}\n${plan.key}`;
}

/** The plugin instances of one generation, in the Plan's `plugins` order. */
export class PluginInstances {
  readonly #held: ReadonlyMap<string, Held>;
  #disposed = false;
  /** By plan index (what a location's `plugins` list points at). */
  readonly list: readonly PluginInstance[];

  private constructor(held: ReadonlyMap<string, Held>, list: readonly PluginInstance[]) {
    this.#held = held;
    this.list = list;
  }

  /**
   * Instances for `plans`: taken from `previous` when unchanged, else made by the registry's half of their category.
   * Throws only on a programmer error (a category without a half: the compiler refuses those); nothing is then held.
   */
  static build(
    plans: readonly PluginPlan[],
    registry: PluginRegistry,
    env: PluginEnv,
    previous?: PluginInstances,
  ): PluginInstances {
    // A disposed generation holds nothing any more.
    const from = previous === undefined || previous.#disposed ? undefined : previous;
    const held = new Map<string, Held>();
    const list: PluginInstance[] = [];
    try {
      for (const p of plans) {
        const id = identity(p);
        let h = from === undefined ? undefined : from.#held.get(id);
        if (h) h.holders++;
        else {
          const half = registry.get(p.category);
          // The compiler refuses every category without a runtime half (fail closed), so a missing one is a bug.
          if (!half) throw new Error(`plugin "${p.name}": category "${p.category}" has no runtime half`);
          h = { instance: half.create(p, env), holders: 1 };
        }
        held.set(id, h);
        list.push(h.instance);
      }
    } catch (e) {
      new PluginInstances(held, list).dispose();
      throw e;
    }
    return new PluginInstances(held, list);
  }

  /** The instance named `name` (tests, admin). */
  get(name: string): PluginInstance | undefined {
    return this.list.find((p) => p.name === name);
  }

  /** Lets go of every instance; those no other generation holds are disposed. Once only. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const h of this.#held.values()) {
      if (--h.holders > 0) continue;
      try {
        h.instance.dispose?.();
      } catch (e) {
        console.error(`plugin "${h.instance.name}": dispose failed`, e);
      }
    }
  }
}
