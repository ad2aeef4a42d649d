/**
 * The whole hostile corpus in a stable order, each case with its id, and the
 * group filter (`HOSTILE_ONLY=framing,upstream`).
 *
 * @module
 */
import type { Group, HostileCase } from "./case.ts";
import { framingCases } from "./framing_cases.ts";
import { h2Cases } from "./h2_cases.ts";
import { slowCases } from "./slow_cases.ts";
import { upstreamCases } from "./upstream_cases.ts";
import { wsCases } from "./ws_cases.ts";

/** Every group, in run order. */
export const GROUPS: readonly Group[] = ["framing", "slow", "upstream", "websocket", "h2"];

/** Every case with its id (1-based, stable while the tables keep their order). */
export function corpus(): { c: HostileCase; id: number }[] {
  const all: HostileCase[] = [...framingCases(), ...slowCases(), ...upstreamCases(), ...wsCases(), ...h2Cases()];
  return all.map((c, i) => ({ c, id: i + 1 }));
}

/** The groups `HOSTILE_ONLY` names (comma separated), or all. */
export function selectedGroups(): Group[] {
  const only = Deno.env.get("HOSTILE_ONLY");
  if (!only) return [...GROUPS];
  const names = only.split(",").map((s) => s.trim());
  return GROUPS.filter((g) => names.includes(g));
}
