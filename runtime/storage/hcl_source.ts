/**
 * Reading an HCL config: HashiCorp's own HCL parser (`@cdktf/hcl2json`, Go
 * compiled to WASM) gives the values; {@linkcode scanHcl} gives the order of
 * the blocks and where each block and key is, which the parser's JSON does
 * not keep. The blocks then go through {@linkcode assemble}, as KDL's do.
 *
 * What the JSON cannot hold, the reader makes up for: blocks come out keyed
 * by label in name order, so their order is taken from the scan; a block and
 * an attribute of the same name in one body (`upstream = "a"` beside
 * `upstream "b" { … }`) keep only the attribute in the JSON, so such a block
 * is parsed again on its own from its span in the text.
 *
 * @module
 */
import { ConfigReadError, diag, type Diagnostic, type Origin } from "../../compiler/mod.ts";
import { type Block, sectionOf } from "./config_convert.ts";
import { scanHcl, type ScannedBlock } from "./hcl_scan.ts";

type Json = Record<string, unknown>;
type HclParse = (filename: string, contents: string) => Promise<Json>;

let parser: HclParse | undefined;

/** The parser, loaded on first use (its WASM is large; TOML configs never load it). */
async function hclParse(): Promise<HclParse> {
  try {
    return parser ??= (await import("@cdktf/hcl2json")).parse as HclParse;
  } catch (e) {
    throw new ConfigReadError(`Cannot load the HCL parser: ${(e as Error).message}`, { cause: e });
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A JSON value as TOML takes it: `null` becomes `""`, as Pingap converts it; strings lose the template escapes
 * `$${` and `%%{` that hcl2json (Terraform's JSON syntax) keeps, so `"$${x}"` is the text `${x}`, as in HCL. An
 * interpolation (`"${x}"`) is not evaluated: it stays text.
 */
function tomlValue(v: unknown): unknown {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v.replace(/([$%])\1\{/g, "$1{");
  if (Array.isArray(v)) return v.map(tomlValue);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tomlValue(x)]));
  return v;
}

/** A parser error as a diagnostic: `file:LINE,COL-…: summary; detail`. */
function syntaxDiagnostic(file: string, e: unknown): Diagnostic {
  const text = (e instanceof Error ? e.message : String(e)).replace(/^parse config: \[?/, "").replace(/\]$/, "");
  const m = /^(.*?):(\d+),(\d+)-[\d,]+: ([\s\S]*)$/.exec(text);
  const message = m ? m[4]! : text;
  return {
    ...diag("hcl-syntax", [], `HCL syntax error: ${message}`, { hint: "Fix the HCL syntax at this line" }),
    file,
    ...(m ? { line: Number(m[2]), column: Number(m[3]) } : { line: 1, column: 1 }),
  };
}

/** The blocks of an HCL text, or the syntax error. Throws {@linkcode ConfigReadError} when the parser cannot load. */
export async function readHclBlocks(
  file: string,
  text: string,
): Promise<{ blocks: Block[]; diagnostics: Diagnostic[] }> {
  const parse = await hclParse();
  let root: Json;
  try {
    root = await parse(file, text);
  } catch (e) {
    return { blocks: [], diagnostics: [syntaxDiagnostic(file, e)] };
  }
  const diagnostics: Diagnostic[] = [];
  const scanned = scanHcl(text);
  const at = (line: number, column: number): Origin => ({ file, line, column });
  for (const a of scanned.attrs) {
    diagnostics.push({
      ...diag("unknown-key", [], `Top-level attribute "${a.name}" is not read`, {
        hint: 'Put it in a block: basic { ... }, server "name" { ... }',
      }),
      ...at(a.line, a.column),
    });
  }

  /** The JSON body of `block`, the `index`-th of its type and label in `parent`. */
  const bodyOf = async (block: ScannedBlock, parent: Json, index: number): Promise<Json | undefined> => {
    const pick = (holder: unknown, k: number): Json | undefined => {
      const h = block.labels.length ? (isObject(holder) ? holder[block.labels[0]!] : undefined) : holder;
      const body = Array.isArray(h) ? h[k] : undefined;
      return isObject(body) ? body : undefined;
    };
    const body = pick(parent[block.kind], index);
    if (body) return body;
    // Lost in the JSON (an attribute of the same name won): parse the block alone.
    try {
      return pick((await parse(file, text.slice(block.start, block.end)))[block.kind], 0);
    } catch {
      return undefined;
    }
  };

  const convert = async (block: ScannedBlock, parent: Json, index: number): Promise<Block | undefined> => {
    const origin = at(block.line, block.column);
    if (block.labels.length > 1) {
      diagnostics.push({
        ...diag("invalid-block", [], `A ${block.kind} block takes one name, got ${block.labels.length}`, {
          hint: `Write ${block.kind} "<name>" { ... }`,
        }),
        ...origin,
      });
      return undefined;
    }
    const body = await bodyOf(block, parent, index);
    if (!body) {
      diagnostics.push({
        ...diag("hcl-syntax", [], `The ${block.kind} block could not be read`, { hint: "Check its syntax" }),
        ...origin,
      });
      return undefined;
    }
    const attrs = new Map<string, { value: unknown; at: Origin }>();
    for (const a of block.body.attrs) {
      if (a.name in body) attrs.set(a.name, { value: tomlValue(body[a.name]), at: at(a.line, a.column) });
    }
    const kinds = new Set(block.body.blocks.map((b) => b.kind));
    // Safety net: a key the scan missed still gets through, placed at its block.
    for (const [k, v] of Object.entries(body)) {
      if (!attrs.has(k) && !kinds.has(k)) attrs.set(k, { value: tomlValue(v), at: origin });
    }
    const blocks: Block[] = [];
    const seen = new Map<string, number>();
    for (const inner of block.body.blocks) {
      const key = `${inner.kind}\u0000${inner.labels.join("\u0000")}`;
      const k = seen.get(key) ?? 0;
      seen.set(key, k + 1);
      const b = await convert(inner, body, k);
      if (b) blocks.push(b);
    }
    return { kind: block.kind, name: block.labels[0], at: origin, attrs, blocks };
  };

  const blocks: Block[] = [];
  const seen = new Map<string, number>();
  for (const block of scanned.blocks) {
    const key = `${block.kind}\u0000${block.labels.join("\u0000")}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    // Unknown types are reported by the assembly; only their name matters there.
    if (sectionOf(block.kind) === undefined) {
      blocks.push({ kind: block.kind, at: at(block.line, block.column), attrs: new Map(), blocks: [] });
      continue;
    }
    const b = await convert(block, root, k);
    if (b) blocks.push(b);
  }
  return { blocks, diagnostics };
}
