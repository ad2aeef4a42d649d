/**
 * What changed between two plans, in Pingap's words ("Upstream(x) is
 * modified"), for logs and the `reload_config` / `diff_config` webhooks.
 *
 * @module
 */
import { type Plan, stableHash } from "../../compiler/mod.ts";

interface Named {
  readonly name: string;
}

function keyed<T extends Named>(items: readonly T[], key: (t: T) => string): Map<string, string> {
  return new Map(items.map((t) => [t.name, key(t)]));
}

function compare(kind: string, before: Map<string, string>, after: Map<string, string>, out: string[]): void {
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (const [name, k] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(name);
    else if (old !== k) modified.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) removed.push(name);
  const line = (names: string[], verb: string) => {
    if (names.length) out.push(`${kind}(${names.join(",")}) ${names.length > 1 ? "are" : "is"} ${verb}`);
  };
  line(added, "added");
  line(modified, "modified");
  line(removed, "removed");
}

/**
 * Lines describing the changes from `before` to `after` (empty when equal).
 *
 * @example Usage
 * ```ts
 * import { diffPlans } from "./plan_diff.ts";
 * import { compileSources } from "../../compiler/mod.ts";
 * const a = compileSources([{ file: "a", text: '[upstreams.x]\naddrs = ["127.0.0.1:1"]' }]).plan!;
 * const b = compileSources([{ file: "a", text: '[upstreams.x]\naddrs = ["127.0.0.1:2"]' }]).plan!;
 * if (diffPlans(a, b)[0] !== "Upstream(x) is modified") throw new Error();
 * ```
 */
export function diffPlans(before: Plan, after: Plan): string[] {
  const out: string[] = [];
  if (stableHash(before.basic) !== stableHash(after.basic)) out.push("Basic is modified");
  compare(
    "Server",
    keyed(before.servers, (s) => s.key),
    keyed(after.servers, (s) => s.key),
    out,
  );
  compare(
    "Location",
    keyed(before.locations, (l) => l.key),
    keyed(after.locations, (l) => l.key),
    out,
  );
  compare("Upstream", keyed(before.upstreams, (u) => u.key), keyed(after.upstreams, (u) => u.key), out);
  compare("Plugin", keyed(before.plugins, (p) => p.key), keyed(after.plugins, (p) => p.key), out);
  compare(
    "Certificate",
    keyed(before.certificates, (c) => c.key),
    keyed(after.certificates, (c) => c.key),
    out,
  );
  return out;
}
