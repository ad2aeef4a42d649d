/**
 * One case of the config fuzzer: a seed config, one of its files mutated (tests/fuzz/mutator.ts), read as `check`
 * reads a file (`sourceFromBytes`: invalid UTF-8 is an error at its position) and compiled as `check` compiles it
 * (`compileSources`, then the text format of the diagnostics). The case passes when it ends as `check` must: exit
 * 0 with a plan that survives `structuredClone` (the runtime posts plans to its workers), holds no NaN or
 * infinite number and no header `Headers` refuses, or exit 1 with at least
 * one error, every diagnostic having a message and a key path or a file position, and nothing thrown.
 *
 * @module
 */
import { compileSources, formatText, type Source, sourceFromBytes } from "../../compiler/mod.ts";
import { caseSeed, mutate, Rng } from "./mutator.ts";

/** A config to mutate: one file or the files of a directory, compiled together. */
export interface SeedConfig {
  readonly name: string;
  readonly sources: readonly Source[];
}

/** What one case did. */
export interface CaseResult {
  readonly index: number;
  /** The case's own seed (derived from the run's seed and the index). */
  readonly seed: number;
  readonly config: string;
  readonly file: string;
  readonly ops: readonly string[];
  /** 0 or 1 as `check` would exit; undefined when the compiler threw. */
  readonly exitCode?: 0 | 1;
  /** The TOML parsed (no `toml-syntax` diagnostic): the mutant reached the schema. */
  readonly parsed: boolean;
  /** What broke the contract: a thrown error (with its stack) or a bad diagnostic. Empty when the case passed. */
  readonly problems: readonly string[];
  readonly ms: number;
}

/** The mutated sources of case `index` of a run seeded `seed`. */
export function caseInput(
  corpus: readonly SeedConfig[],
  seed: number,
  index: number,
): { seed: number; config: SeedConfig; file: number; sources: Source[]; bytes: Uint8Array; ops: readonly string[] } {
  const s = caseSeed(seed, index);
  const rng = new Rng(s);
  const config = rng.pick(corpus);
  const file = rng.int(config.sources.length);
  const mutant = mutate(config.sources[file]!.text, rng);
  const sources = config.sources.map((src, i) => i === file ? sourceFromBytes(src.file, mutant.bytes) : src);
  return { seed: s, config, file, sources, bytes: mutant.bytes, ops: mutant.ops };
}

/** Runs case `index` of a run seeded `seed`. Never throws: a throw is a problem of the result. */
export function runCase(corpus: readonly SeedConfig[], seed: number, index: number): CaseResult {
  const input = caseInput(corpus, seed, index);
  const problems: string[] = [];
  let exitCode: 0 | 1 | undefined;
  let parsed = false;
  const start = performance.now();
  try {
    const { plan, diagnostics } = compileSources(input.sources);
    formatText(diagnostics);
    const errors = diagnostics.filter((d) => d.severity === "error");
    exitCode = errors.length ? 1 : 0;
    parsed = !diagnostics.some((d) => d.code === "toml-syntax");
    if (exitCode === 0 && !plan) problems.push("no error and no plan");
    for (const d of diagnostics) {
      if (typeof d.message !== "string" || d.message.trim() === "") {
        problems.push(`diagnostic ${d.code} has no message`);
      }
      const placed = d.path.length > 0 || (d.file !== undefined && d.line !== undefined);
      if (!placed) problems.push(`diagnostic ${d.code} has neither a key path nor a position: ${d.message}`);
      if (/\n\s+at /.test(d.message) || /\bat .*\.ts:\d+:\d+/.test(d.message)) {
        problems.push(`diagnostic ${d.code} carries a stack trace: ${d.message}`);
      }
    }
    if (exitCode === 0 && plan) {
      try {
        structuredClone(plan);
      } catch (e) {
        problems.push(`the plan cannot be posted to a worker: ${(e as Error).message}`);
      }
      const bad = nonFinite(plan, "plan");
      if (bad) problems.push(`the plan holds ${bad}`);
      const header = unsettableHeader(plan, "plan");
      if (header) problems.push(`the plan holds a header no request can carry: ${header}`);
    }
  } catch (e) {
    exitCode = undefined;
    problems.push(`threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  return {
    index,
    seed: input.seed,
    config: input.config.name,
    file: input.config.sources[input.file]!.file,
    ops: input.ops,
    ...(exitCode === undefined ? {} : { exitCode }),
    parsed,
    problems,
    ms: performance.now() - start,
  };
}

/** The first number of `value` that is NaN or infinite (a timeout or a size that nothing can use), as `path = n`. */
export function nonFinite(value: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${path} = ${value}`;
  if (typeof value !== "object" || value === null || seen.has(value)) return undefined;
  seen.add(value);
  if (value instanceof RegExp) return undefined;
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  for (const [k, v] of entries) {
    const bad = nonFinite(v, `${path}.${String(k)}`, seen);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * The first header of `value` (a `{ name, value: Template }` the runtime sets, as `HeaderOp`) whose name or literal
 * text `Headers` refuses: every request it applies to would fail.
 */
export function unsettableHeader(value: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (typeof value !== "object" || value === null || seen.has(value)) return undefined;
  seen.add(value);
  const op = value as { name?: unknown; value?: unknown };
  if (typeof op.name === "string" && Array.isArray(op.value) && op.value.length > 0) {
    const text = op.value.filter((p) => typeof p === "string").join("");
    try {
      new Headers().set(op.name, text);
    } catch {
      return `${path} = ${JSON.stringify(op.name)}: ${JSON.stringify(text)}`;
    }
  }
  if (value instanceof RegExp) return undefined;
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  for (const [k, v] of entries) {
    const bad = unsettableHeader(v, `${path}.${String(k)}`, seen);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * Reads the corpus: the bundled `conf/`, the golden configs of `tests/golden/`, and every Pingap example directory and
 * file (`../shared/pingap-examples`).
 */
export async function loadCorpus(root: URL = new URL("../../", import.meta.url)): Promise<SeedConfig[]> {
  const out: SeedConfig[] = [];
  const read = async (path: string): Promise<Source> => ({ file: path, text: await Deno.readTextFile(path) });
  const conf = new URL("conf/", root).pathname;
  const confFiles: string[] = [];
  for await (const e of Deno.readDir(conf)) {
    if (e.isFile && e.name.endsWith(".toml")) confFiles.push(`${conf}${e.name}`);
  }
  out.push({ name: "conf/", sources: await Promise.all(confFiles.sort().map(read)) });
  // The golden configs: they set keys the samples leave out (access logs, header templates, every balancing).
  const golden = new URL("tests/golden/", root).pathname;
  const goldenFiles: string[] = [];
  for await (const e of Deno.readDir(golden)) if (e.isFile && e.name.endsWith(".toml")) goldenFiles.push(e.name);
  for (const name of goldenFiles.sort()) {
    out.push({ name: `tests/golden/${name}`, sources: [await read(`${golden}${name}`)] });
  }
  const examples = new URL("../shared/pingap-examples/", root);
  const dirs = new Map<string, string[]>();
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}${e.name}/`);
      else if (e.isFile && e.name.endsWith(".toml")) dirs.set(dir, [...(dirs.get(dir) ?? []), `${dir}${e.name}`]);
    }
  };
  await walk(examples.pathname);
  const label = (p: string) => `pingap-examples/${p.slice(examples.pathname.length)}`;
  for (const [dir, files] of [...dirs].sort(([a], [b]) => a < b ? -1 : 1)) {
    files.sort();
    const sources = await Promise.all(files.map(read));
    if (files.length > 1) out.push({ name: label(dir), sources });
    for (const s of sources) out.push({ name: label(s.file), sources: [s] });
  }
  return out;
}
