/**
 * Loading: TOML texts in (read by `runtime/storage/` from one file, a
 * directory of files, or etcd), one merged raw tree out, with the origin
 * (file, line, column) of every key kept so each diagnostic can point at it.
 * Pure: no I/O.
 *
 * Texts of every layout merge the same way (one file per type,
 * `servers.toml`…, or one file per item, `servers/<name>.toml` holding
 * `[servers.<name>]`). The same item defined twice is an error naming both
 * places.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { diag, type Diagnostic, type Origin } from "./diagnostic.ts";
import { pathKey, type Positions, scanPositions } from "./_toml_positions.ts";
import { isTable } from "./schema/types.ts";

/** One TOML text and the name it is reported under. */
export interface Source {
  readonly file: string;
  readonly text: string;
  /**
   * Where the file's bytes stop being UTF-8 (the text holds U+FFFD there, as a lossy read gives it): an error of
   * {@linkcode parseSources}. Set by {@linkcode sourceFromBytes}.
   */
  readonly invalidUtf8?: { readonly line: number; readonly column: number };
}

/** Index of the first byte of `b` that does not start a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let k = 2; k <= n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * A file's bytes as a {@linkcode Source}: decoded as UTF-8 (a BOM dropped), and where they are not UTF-8, decoded
 * with U+FFFD and {@linkcode Source.invalidUtf8} set, which `check` reports (as Pingap refuses such a file).
 *
 * @example Usage
 * ```ts
 * import { sourceFromBytes } from "./load.ts";
 * const s = sourceFromBytes("a.toml", new Uint8Array([0x61, 0x3d, 0x22, 0xff, 0x22]));
 * if (s.invalidUtf8?.column !== 4 || s.text !== 'a="\ufffd"') throw new Error();
 * ```
 */
export function sourceFromBytes(file: string, bytes: Uint8Array): Source {
  try {
    return { file, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    const text = new TextDecoder().decode(bytes);
    const at = firstInvalidUtf8(bytes);
    const before = new TextDecoder().decode(bytes.subarray(0, Math.max(0, at)));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    return { file, text, invalidUtf8: { line, column } };
  }
}

/** Top-level sections that hold named items. */
export const ITEM_SECTIONS = ["servers", "locations", "upstreams", "plugins", "certificates", "storages"] as const;

/** A section holding named items. */
export type ItemSection = typeof ITEM_SECTIONS[number];

/** The merged raw config: what the TOML said, nothing checked yet. */
export interface RawTree {
  readonly [section: string]: unknown;
}

/** Origins keyed by {@linkcode pathKey}. */
export interface OriginMap {
  /** The origin of a path, or undefined. */
  get(key: string): Origin | undefined;
}

/**
 * The origins of several files: a path's origin is where the first file that has it put it, leaving out the items a
 * later file defined again (a duplicate, reported; their keys keep the first file's positions).
 */
class FileOrigins implements OriginMap {
  readonly #files: { readonly positions: Positions; readonly skipped: ReadonlySet<string> }[] = [];

  /** Adds the next file's positions and the item keys (`section\0name`) it lost. */
  add(positions: Positions, skipped: ReadonlySet<string>): void {
    this.#files.push({ positions, skipped });
  }

  get(key: string): Origin | undefined {
    for (let f = 0; f < this.#files.length; f++) {
      const { positions, skipped } = this.#files[f]!;
      if (f > 0 && skipped.size > 0) {
        const second = key.indexOf("\u0000", key.indexOf("\u0000") + 1);
        if (skipped.has(second < 0 ? key : key.slice(0, second))) continue;
      }
      const o = positions.get(key);
      if (o !== undefined) return o;
    }
    return undefined;
  }
}

/** Result of {@linkcode parseSources}. */
export interface Loaded {
  readonly raw: RawTree;
  readonly origins: OriginMap;
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: readonly Source[];
}

/**
 * Parses and merges TOML sources. Pure: no I/O.
 *
 * @example Usage
 * ```ts
 * import { parseSources } from "./load.ts";
 * const r = parseSources([{ file: "a.toml", text: "[upstreams.u]\naddrs = []\n" }]);
 * if (r.origins.get("upstreams")?.line !== 1 || r.diagnostics.length !== 0) throw new Error();
 * ```
 */
export function parseSources(sources: readonly Source[]): Loaded {
  const raw: Record<string, unknown> = {};
  const origins = new FileOrigins();
  const diagnostics: Diagnostic[] = [];
  for (const source of sources) {
    if (source.invalidUtf8) {
      diagnostics.push({
        ...diag("invalid-utf8", [], "Bytes that are not UTF-8 (read as U+FFFD)", {
          hint: "TOML files are UTF-8: save the file as UTF-8",
        }),
        file: source.file,
        ...source.invalidUtf8,
      });
    }
    let doc: Record<string, unknown>;
    try {
      doc = parse(source.text) as Record<string, unknown>;
    } catch (e) {
      if (!(e instanceof TomlError)) throw e;
      const message = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      diagnostics.push({
        ...diag("toml-syntax", [], `TOML syntax error: ${message}`, { hint: "Fix the TOML syntax at this line" }),
        file: source.file,
        line: e.line,
        column: e.column,
      });
      continue;
    }
    const positions = scanPositions(source.text, source.file);
    const at = (path: readonly (string | number)[]): Origin => {
      for (let n = path.length; n > 0; n--) {
        const p = positions.get(pathKey(path.slice(0, n)));
        if (p) return p;
      }
      return { file: source.file, line: 1, column: 1 };
    };
    // Items of this file that lost to an earlier definition: their keys keep the first file's positions.
    const skipped = new Set<string>();
    for (const [section, value] of Object.entries(doc)) {
      const isItems = (ITEM_SECTIONS as readonly string[]).includes(section);
      if (!(section in raw)) {
        raw[section] = isTable(value) ? { ...value } : value;
        continue;
      }
      const existing = raw[section];
      if (isTable(existing) && isTable(value)) {
        // Items (or basic keys) from several files: merge, duplicates are errors.
        for (const [name, item] of Object.entries(value)) {
          if (name in existing) {
            const first = origins.get(pathKey([section, name]));
            diagnostics.push({
              ...diag(
                "duplicate-item",
                [section, name],
                `${isItems ? "Item" : "Key"} "${section}.${name}" is defined twice`,
                {
                  hint: "Keep one definition and remove the other",
                  ...(first ? { related: [first] } : {}),
                },
              ),
              ...at([section, name]),
            });
            skipped.add(pathKey([section, name]));
            continue;
          }
          existing[name] = item;
        }
      } else {
        diagnostics.push({
          ...diag("duplicate-item", [section], `"${section}" is defined twice`, { hint: "Keep one definition" }),
          ...at([section]),
        });
      }
    }
    origins.add(positions, skipped);
  }
  return { raw, origins, diagnostics, sources };
}

/** An error reading the config (exit code 2 territory, not a config mistake). */
export class ConfigReadError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigReadError";
  }
}
