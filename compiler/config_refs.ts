/**
 * `$ENV:NAME` and `$FILE:/path` references (addendum §A1.0): a string
 * value whose whole text starts with one of these is replaced by what it
 * names before the value is decoded. The compiler stays pure: what a
 * reference names is looked up by a {@linkcode RefResolver} that the
 * caller hands in (runtime/config_refs.ts reads the environment and
 * files); this module holds the rules that need no machine: which strings
 * are references, the name and path rules, the keys that refuse one, and
 * the masking that keeps resolved values out of diagnostics.
 *
 * @module
 */
import { diag, type Diagnostic, type KeyPath } from "./diagnostic.ts";
import type { Fields } from "./schema/types.ts";
import { isTable } from "./schema/types.ts";

const ENV = "$ENV:";
const FILE = "$FILE:";

/** A reference as written. */
export type Reference =
  | { readonly kind: "env"; readonly name: string; readonly text: string }
  | { readonly kind: "file"; readonly path: string; readonly text: string };

/** What a resolver found: the value, or why there is none (no value in the message). */
export type RefLookup = { readonly ok: true; readonly value: string } | {
  readonly ok: false;
  readonly message: string;
};

/** Looks a reference up (the environment, a file). Called only with references that passed {@linkcode parseReference}. */
export type RefResolver = (ref: Reference) => RefLookup;

/** Whether `value` is written as a reference: from its first character, case as written. */
export function isReference(value: string): boolean {
  return value.startsWith(ENV) || value.startsWith(FILE);
}

/**
 * Parses a reference, or says why it names nothing: the variable name must
 * be `[A-Za-z_][A-Za-z0-9_]*`, the path absolute (`~` and `~/…` allowed).
 *
 * @example Usage
 * ```ts
 * import { parseReference } from "./config_refs.ts";
 * const r = parseReference("$ENV:API_TOKEN");
 * if (!("kind" in r) || r.kind !== "env" || r.name !== "API_TOKEN") throw new Error();
 * if (!("error" in parseReference("$FILE:conf/key.pem"))) throw new Error();
 * ```
 */
export function parseReference(text: string): Reference | { readonly error: string } {
  if (text.startsWith(ENV)) {
    const name = text.slice(ENV.length);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { error: `${text} does not name an environment variable` };
    return { kind: "env", name, text };
  }
  const path = text.slice(FILE.length);
  if (!(path.startsWith("/") || path === "~" || path.startsWith("~/"))) {
    return { error: `${text} has to be an absolute path` };
  }
  return { kind: "file", path, text };
}

/** The state of one compile's references: the resolver, and what each resolved value stood for. */
export interface RefContext {
  readonly resolver?: RefResolver;
  /** Resolved value → the reference text, for masking. */
  readonly resolved: Map<string, string>;
  /** Where each reference was, with its text: a diagnostic there never shows the value. */
  readonly places: { readonly path: KeyPath; readonly text: string }[];
}

/** A new context; without a resolver references are kept as text (a tool that stores the config for others). */
export function refContext(resolver?: RefResolver): RefContext {
  return { ...(resolver ? { resolver } : {}), resolved: new Map(), places: [] };
}

/** Field types whose text is a quantity, not text: a reference there is refused. */
const QUANTITY_TYPES = new Set(["duration", "size"]);

/**
 * Replaces every reference in a raw item's values (strings in arrays and
 * nested tables too) by what it names. `fields` tells which keys hold a
 * duration or a size, where a reference is an error. Returns the item with
 * the values replaced (the input is not changed).
 */
export function resolveItem(
  item: Record<string, unknown>,
  fields: Fields,
  path: KeyPath,
  ctx: RefContext,
  diags: Diagnostic[],
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, raw] of Object.entries(item)) {
    const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    const quantity = field !== undefined && QUANTITY_TYPES.has(field.type.name);
    const before = diags.length;
    const v = walk(raw, [...path, key], quantity, ctx, diags);
    if (quantity && diags.length > before) {
      // Refused (reported): left out, so the decoder does not report the reference's text once more.
      out ??= { ...item };
      delete out[key];
    } else if (v !== raw) (out ??= { ...item })[key] = v;
  }
  return out ?? item;
}

function walk(value: unknown, path: KeyPath, quantity: boolean, ctx: RefContext, diags: Diagnostic[]): unknown {
  if (typeof value === "string") return isReference(value) ? resolveOne(value, path, quantity, ctx, diags) : value;
  if (Array.isArray(value)) {
    const items = value.map((v, i) => walk(v, [...path, i], quantity, ctx, diags));
    return items.some((v, i) => v !== value[i]) ? items : value;
  }
  if (isTable(value)) {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const w = walk(v, [...path, k], quantity, ctx, diags);
      if (w !== v) (out ??= { ...value })[k] = w;
    }
    return out ?? value;
  }
  return value;
}

function resolveOne(text: string, path: KeyPath, quantity: boolean, ctx: RefContext, diags: Diagnostic[]): string {
  if (quantity) {
    diags.push(
      diag(
        "reference-not-text",
        path,
        `${text} is not allowed in a duration or size field (a $ENV: or $FILE: reference is only read where the value is text)`,
        { hint: 'Write the value itself, e.g. "10s" or "1mb"' },
      ),
    );
    return text;
  }
  const ref = parseReference(text);
  if ("error" in ref) {
    diags.push(
      diag("invalid-reference", path, ref.error, {
        hint: "Write $ENV:NAME (letters, digits, _) or $FILE:/absolute/path",
      }),
    );
    return text;
  }
  if (!ctx.resolver) return text;
  const r = ctx.resolver(ref);
  if (!r.ok) {
    diags.push(
      diag("unresolved-reference", path, `${r.message} (${text})`, {
        hint: ref.kind === "env"
          ? `Set ${ref.name} in the environment of the process, or write the value`
          : `Put the value in ${ref.path} (readable, not empty, at most 1 MiB of UTF-8), or write the value`,
      }),
    );
    return text;
  }
  ctx.resolved.set(r.value, text);
  ctx.places.push({ path, text });
  return r.value;
}

/**
 * Diagnostics with every resolved value replaced by its reference text:
 * in messages and hints at a place a reference was, any value; elsewhere
 * values of 4 characters or more (a shorter one would mangle unrelated
 * text).
 */
export function maskDiagnostics(diags: readonly Diagnostic[], ctx: RefContext): Diagnostic[] {
  if (ctx.resolved.size === 0) return [...diags];
  const all = [...ctx.resolved].sort((a, b) => b[0].length - a[0].length);
  const long = all.filter(([v]) => v.length >= 4);
  const under = (p: KeyPath) => ctx.places.some((r) => r.path.length <= p.length && r.path.every((k, i) => k === p[i]));
  const mask = (s: string, pairs: [string, string][]) => {
    for (const [value, text] of pairs) {
      s = s.split(value).join(text).split(JSON.stringify(value).slice(1, -1)).join(text);
    }
    return s;
  };
  return diags.map((d) => {
    const pairs = under(d.path) ? all : long;
    const message = mask(d.message, pairs);
    const hint = d.hint === undefined ? undefined : mask(d.hint, pairs);
    return message === d.message && hint === d.hint ? d : { ...d, message, ...(hint !== undefined ? { hint } : {}) };
  });
}
