/**
 * The config fuzzer at scale (issue 15): `deno task bench fuzz [--cases 20000] [--seed N] [--timeout 10000]`, or
 * `deno run -A bench/config_fuzz_bench.ts …`. Mutates the bundled `conf/` and every Pingap example
 * (`../shared/pingap-examples`) and compiles each mutant as `check` does (tests/fuzz/). Prints a table of cases,
 * exit codes, crashes, hangs and times; exits 1 when a case crashed or hung.
 *
 * `--replay INDEX` (with `--seed`) writes case INDEX's mutated file to a temporary file, prints its mutations and
 * its diagnostics, and the `check` command to run it again.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { compileSources, formatText } from "../compiler/mod.ts";
import { caseInput, loadCorpus } from "../tests/fuzz/fuzz_case.ts";
import { describe, fuzz } from "../tests/fuzz/fuzz_run.ts";
import { fmt, table } from "./table.ts";

/** Runs the bench with command-line `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cases: { type: "string", default: "20000" },
      seed: { type: "string" },
      timeout: { type: "string", default: "10000" },
      replay: { type: "string" },
    },
    allowPositionals: true,
  });
  const seed = values.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(values.seed) >>> 0;
  const corpus = await loadCorpus();
  if (values.replay !== undefined) return await replay(corpus, seed, Number(values.replay));
  const cases = Number(values.cases);
  console.log(`config fuzz: seed ${seed}, ${cases.toLocaleString("en-US")} cases over ${corpus.length} seed configs`);
  const s = await fuzz({
    corpus,
    seed,
    cases,
    timeoutMs: Number(values.timeout),
    onFailure: (f) => console.log(describe(seed, f)),
  });
  console.log(
    "\n" + table([
      ["Measure", "Value"],
      ["Seed", String(s.seed)],
      ["Cases", s.cases.toLocaleString("en-US")],
      ["Exit 0 (accepted)", s.exit0.toLocaleString("en-US")],
      ["Exit 1 (errors with diagnostics)", s.exit1.toLocaleString("en-US")],
      ["TOML parsed (reached the schema)", s.parsed.toLocaleString("en-US")],
      ["Crashes", String(s.crashes.length)],
      ["Hangs (> timeout)", String(s.hangs.length)],
      ["Slowest case", `${fmt(s.slowestMs)} ms (case ${s.slowestIndex})`],
      ["Total time", `${fmt(s.totalMs / 1000)} s (${fmt(s.totalMs / Math.max(1, s.completed), 2)} ms a case)`],
    ]),
  );
  return s.crashes.length || s.hangs.length ? 1 : 0;
}

async function replay(corpus: Awaited<ReturnType<typeof loadCorpus>>, seed: number, index: number): Promise<number> {
  const input = caseInput(corpus, seed, index);
  const name = input.config.sources[input.file]!.file.replace(/^.*\//, "");
  const dir = await Deno.makeTempDir({ prefix: "fuzz-" });
  for (const [i, src] of input.config.sources.entries()) {
    const base = src.file.replace(/^.*\//, "");
    if (i === input.file) await Deno.writeFile(`${dir}/${base}`, input.bytes);
    else await Deno.writeTextFile(`${dir}/${base}`, src.text);
  }
  console.log(`case ${index} of seed ${seed}: ${input.config.name}, file ${name}`);
  console.log(`mutations: ${input.ops.join("; ")}`);
  try {
    const { diagnostics } = compileSources(input.sources);
    console.log(formatText(diagnostics) || "(no diagnostics)");
  } catch (e) {
    console.log(`THROWN: ${(e as Error).stack}`);
  }
  const target = input.config.sources.length > 1 ? dir : `${dir}/${name}`;
  console.log(`\nagain: deno run -A mod.ts check -c ${target}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
