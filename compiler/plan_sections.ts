/**
 * What every part of the build shares: the raw tree, the diagnostics, the
 * reference context, and decoding a section's items (with their `includes`
 * expanded and references resolved) against its schema.
 *
 * @module
 */
import { parse as parseToml } from "smol-toml";
import { aesDecrypt } from "./values/aes_secret.ts";
import { type RefContext, resolveItem } from "./config_refs.ts";
import { diag, type Diagnostic } from "./diagnostic.ts";
import { didYouMean } from "./did_you_mean.ts";
import { ITEM_SECTIONS, type RawTree } from "./load.ts";
import { decodeTable, isTable, type TableSchema } from "./schema/types.ts";

/** The sections a config may have. */
export const SECTIONS = ["basic", ...ITEM_SECTIONS] as const;

/** The state one build passes to each of its steps. */
export interface BuildContext {
  readonly raw: RawTree;
  readonly diags: Diagnostic[];
  readonly refs: RefContext;
  /** `[storages]` items as written, for `includes`. */
  readonly storages: ReadonlyMap<string, Record<string, unknown>>;
}

/** Reports sections no schema knows. */
export function unknownSections(raw: RawTree, diags: Diagnostic[]): void {
  for (const section of Object.keys(raw)) {
    if (!(SECTIONS as readonly string[]).includes(section)) {
      diags.push(
        diag("unknown-section", [section], `Unknown section "${section}"`, {
          hint: didYouMean(section, SECTIONS) ?? `Sections are: ${SECTIONS.join(", ")}`,
        }),
      );
    }
  }
}

/** The names written under `section`, valid or not (so a reference to an invalid item is not reported twice). */
export function rawNames(raw: RawTree, section: string): ReadonlySet<string> {
  const value = raw[section];
  return new Set(isTable(value) ? Object.keys(value) : []);
}

/** The items of a section as written, each a table (others are reported). */
export function items(raw: RawTree, section: string, diags: Diagnostic[]): [string, Record<string, unknown>][] {
  const value = raw[section];
  if (value === undefined) return [];
  if (!isTable(value)) {
    diags.push(
      diag("wrong-type", [section], `Section "${section}" must be a table of named items`, {
        hint: `Write [${section}.<name>] headers`,
      }),
    );
    return [];
  }
  const out: [string, Record<string, unknown>][] = [];
  for (const [name, item] of Object.entries(value)) {
    if (!isTable(item)) {
      diags.push(
        diag("wrong-type", [section, name], `"${section}.${name}" must be a table`, {
          hint: `Write [${section}.${name}] and its keys below`,
        }),
      );
      continue;
    }
    out.push([name, item]);
  }
  return out;
}

/** Merges `includes` storage fragments into an item (fragment keys win). */
function expandIncludes(
  section: string,
  name: string,
  item: Record<string, unknown>,
  storages: ReadonlyMap<string, Record<string, unknown>>,
  diags: Diagnostic[],
): Record<string, unknown> {
  const list = item.includes;
  if (!Array.isArray(list)) return item;
  let out = item;
  list.forEach((ref, i) => {
    if (typeof ref !== "string") return;
    const storage = storages.get(ref);
    if (!storage) {
      diags.push(diag("unknown-reference", [section, name, "includes", i], `Storage "${ref}" is not defined`, {
        hint: didYouMean(ref, storages.keys()) ?? "Define it under [storages.<name>]",
      }));
      return;
    }
    if (typeof storage.value !== "string") return;
    let text = storage.value;
    // A storage with a `secret` holds its value encrypted (Pingap's AES-256-GCM-SIV); never quoted in a diagnostic.
    if (typeof storage.secret === "string" && storage.secret !== "") {
      try {
        text = aesDecrypt(storage.secret, text);
      } catch (e) {
        diags.push(
          diag("invalid-include", ["storages", ref, "value"], `Storage "${ref}": ${(e as Error).message}`, {
            hint: 'Encrypt the value with this secret (admin POST /api/aes, category "encrypt"), or remove secret',
          }),
        );
        return;
      }
    }
    try {
      const fragment = parseToml(text) as Record<string, unknown>;
      out = { ...out, ...fragment };
    } catch (e) {
      diags.push(
        diag(
          "invalid-include",
          ["storages", ref, "value"],
          `Storage "${ref}" is not a valid TOML fragment: ${(e as Error).message.split("\n")[0]}`,
        ),
      );
    }
  });
  return out;
}

/** Decodes the valid items of `section` by name (certificates take no `includes`). */
export function decodeSection<T>(ctx: BuildContext, section: string, schema: TableSchema): Map<string, T> {
  const out = new Map<string, T>();
  for (const [name, item] of items(ctx.raw, section, ctx.diags)) {
    const expanded = section === "certificates" ? item : expandIncludes(section, name, item, ctx.storages, ctx.diags);
    const resolved = resolveItem(expanded, schema.fields, [section, name], ctx.refs, ctx.diags);
    const config = decodeTable(schema, resolved, [section, name], ctx.diags);
    if (config) out.set(name, config as T);
  }
  return out;
}
