/**
 * Helpers for the plugins' harness tests: a Plan from TOML text (failing on
 * any error), and an echo upstream that answers with what it got.
 *
 * @module
 */
import { compileSources, formatText, hasErrors, type Plan } from "../../compiler/mod.ts";

/** Compiles `text`; throws with the diagnostics when it has errors. */
export function planOf(text: string): Plan {
  const { plan, diagnostics } = compileSources([{ file: "test.toml", text }]);
  if (!plan || hasErrors(diagnostics)) throw new Error(formatText(diagnostics));
  return plan;
}

/** What {@linkcode echo} answers: the request as the upstream got it. */
export interface Echoed {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** A fake upstream answering JSON of the request it got, with `x-origin: 1`. */
export function echo(req: Request): Response {
  const body: Echoed = { method: req.method, url: req.url, headers: Object.fromEntries(req.headers) };
  return Response.json(body, { headers: { "x-origin": "1" } });
}

/**
 * The key paths of the errors with a hint when a location runs the plugin `name` of `category` set by `keys` (TOML
 * lines of its table): what `check` would flag of a plugin's bad config.
 */
export function pluginErrorsAt(name: string, category: string, keys: string): string[] {
  const { diagnostics } = compileSources([{
    file: "t.toml",
    text: `
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[locations.l]
plugins = ["${name}"]
[plugins.${name}]
category = "${category}"
${keys}
`,
  }]);
  return diagnostics.filter((d) => d.severity === "error" && d.hint !== undefined).map((d) => d.path.join("."));
}

/**
 * A Plan with two locations, `/deny` and `/allow`, each running a plugin of `category` (`deny` with `deny`'s TOML
 * lines, `allow` with `allow`'s) before an upstream: the shape of the restriction plugins' tests. `head` goes first
 * (a `[basic]` table, say).
 */
export function allowDenyPlan(category: string, deny: string, allow: string, head = ""): Plan {
  return planOf(`${head}
[servers.s]
addr = "127.0.0.1:1"
locations = ["deny", "allow"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.deny]
path = "/deny"
upstream = "u"
plugins = ["deny"]
[locations.allow]
path = "/allow"
upstream = "u"
plugins = ["allow"]
[plugins.deny]
category = "${category}"
type = "deny"
${deny}
[plugins.allow]
category = "${category}"
type = "allow"
${allow}
`);
}
