/**
 * HCL and KDL files as the compiler's sources: the assembled raw config
 * written as TOML text under the original file's name, with the origin in
 * the original file of each line of that text. After compiling,
 * {@linkcode remapConverted} moves every diagnostic (and the origin map the
 * `--live` checks use) from the TOML text's lines to the original file's,
 * and adds the conversion's own diagnostics (syntax, duplicates).
 *
 * Positions are as good as the readers' scans: a key's line and column in
 * the original file; a value inside a key (an array element, a nested
 * table's key) points at its key; a line the map lacks takes the nearest
 * line above it that has one.
 *
 * @module
 */
import { stringify } from "smol-toml";
import {
  type CheckResult,
  type Diagnostic,
  type Origin,
  parseSources,
  type Source,
  sourceFromBytes,
  withDiagnostics,
} from "../../compiler/mod.ts";
import { assemble, originKey } from "./config_convert.ts";
import { readHclBlocks } from "./hcl_source.ts";
import { readKdlBlocks } from "./kdl_source.ts";

/** A source converted from HCL or KDL. */
export interface ConvertedSource extends Source {
  readonly converted: {
    /** `HCL` or `KDL`. */
    readonly format: string;
    /** The conversion's own diagnostics, in the original file. */
    readonly diagnostics: readonly Diagnostic[];
    /** Origin in the original file of line `n` of `text` (index n), where known. */
    readonly lines: readonly (Origin | undefined)[];
  };
}

/** The config format of a file name: `hcl`, `kdl`, or undefined (TOML). */
export function formatOf(file: string): "hcl" | "kdl" | undefined {
  return file.endsWith(".hcl") ? "hcl" : file.endsWith(".kdl") ? "kdl" : undefined;
}

/** Whether a source was converted from HCL or KDL. */
export function isConverted(source: Source): source is ConvertedSource {
  return "converted" in source;
}

/** Every path of a raw tree, tables and their keys (array elements not included). */
function* paths(value: unknown, path: string[] = []): Generator<string[]> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) return;
  for (const [k, v] of Object.entries(value)) {
    const p = [...path, k];
    yield p;
    yield* paths(v, p);
  }
}

/**
 * Reads an HCL or KDL file's bytes into a {@linkcode ConvertedSource}. Its
 * text is empty when the file has errors the conversion found (those are in
 * `converted.diagnostics`).
 */
export async function convertSource(file: string, bytes: Uint8Array, format: "hcl" | "kdl"): Promise<ConvertedSource> {
  const decoded = sourceFromBytes(file, bytes);
  const diagnostics: Diagnostic[] = [];
  if (decoded.invalidUtf8) {
    diagnostics.push({
      severity: "error",
      code: "invalid-utf8",
      path: [],
      message: "Bytes that are not UTF-8 (read as U+FFFD)",
      hint: "Config files are UTF-8: save the file as UTF-8",
      file,
      ...decoded.invalidUtf8,
    });
  }
  const read = format === "hcl" ? await readHclBlocks(file, decoded.text) : readKdlBlocks(file, decoded.text);
  diagnostics.push(...read.diagnostics);
  const name = format.toUpperCase();
  const assembled = assemble(read.blocks, name);
  diagnostics.push(...assembled.diagnostics);
  const text = stringify(assembled.raw);
  // The TOML line of each path, mapped to the origin of that path (or its nearest known parent) in the original.
  const tomlOrigins = parseSources([{ file, text }]).origins;
  const lines: (Origin | undefined)[] = [];
  for (const path of paths(assembled.raw)) {
    const line = tomlOrigins.get(originKey(path))?.line;
    if (line === undefined || lines[line]) continue;
    for (let n = path.length; n > 0; n--) {
      const o = assembled.origins.get(originKey(path.slice(0, n)));
      if (o) {
        lines[line] = o;
        break;
      }
    }
  }
  return { file, text, converted: { format: name, diagnostics, lines } };
}

/** Where a TOML-text origin of a converted source is in the original file. */
function mapOrigin(origin: Origin, converted: ReadonlyMap<string, ConvertedSource>): Origin {
  const source = converted.get(origin.file);
  if (!source) return origin;
  const lines = source.converted.lines;
  for (let l = Math.min(origin.line, lines.length - 1); l > 0; l--) {
    const o = lines[l];
    if (o) return o;
  }
  return { file: origin.file, line: 1, column: 1 };
}

/**
 * A check result of sources some of which were converted: diagnostics and
 * origins point into the original files, the conversions' diagnostics are
 * added (an error there withholds the Plan). Unchanged when none was.
 */
export function remapConverted(result: CheckResult, sources: readonly Source[]): CheckResult {
  const converted = new Map<string, ConvertedSource>();
  for (const s of sources) if (isConverted(s)) converted.set(s.file, s);
  if (converted.size === 0) return result;
  const map = (o: Origin) => mapOrigin(o, converted);
  const diagnostics = result.diagnostics.map((d) => {
    const related = d.related ? { related: d.related.map(map) } : {};
    if (d.file === undefined || !converted.has(d.file)) return { ...d, ...related };
    return { ...d, ...map({ file: d.file, line: d.line ?? 1, column: d.column ?? 1 }), ...related };
  });
  const inner = result.origins;
  const origins: CheckResult["origins"] = {
    get(key: string) {
      const o = inner.get(key);
      return o && map(o);
    },
  };
  const extra = [...converted.values()].flatMap((s) => s.converted.diagnostics);
  return withDiagnostics({ ...result, diagnostics, origins }, extra);
}
