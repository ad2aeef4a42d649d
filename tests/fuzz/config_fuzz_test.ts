/**
 * The config fuzzer in the suite (issue 15, Build 7): 2,000 mutants of the bundled `conf/` and of every Pingap example
 * compiled as `check` compiles them, each ending with exit 0 or 1 and placed diagnostics, never a throw, never a hang
 * (10 s, a watchdog on a worker); a few of them through the real CLI; and the watchdog itself.
 *
 * `FUZZ_SEED` and `FUZZ_CASES` override the seed and the count; a failure prints the seed and the command that
 * replays its case. `deno task bench fuzz` runs 20,000 (bench/config_fuzz_bench.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { caseInput, type CaseResult, loadCorpus, runCase } from "./fuzz_case.ts";
import { describe, fuzz } from "./fuzz_run.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261207) >>> 0;
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 2000);
const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test(`config fuzz: ${CASES} mutated configs end with exit 0/1 and placed diagnostics (seed ${SEED})`, async () => {
  const corpus = await loadCorpus();
  assert.ok(corpus.length >= 20, `the corpus: conf/ and Pingap's examples, found ${corpus.length}`);
  const s = await fuzz({ corpus, seed: SEED, cases: CASES });
  console.log(
    `seed ${SEED}: ${s.cases} cases, ${s.exit0} exit 0, ${s.exit1} exit 1, ${s.parsed} parsed, ` +
      `${s.crashes.length} crashes, ${s.hangs.length} hangs, slowest ${s.slowestMs.toFixed(1)} ms, ` +
      `${(s.totalMs / 1000).toFixed(1)} s`,
  );
  const failures = [...s.crashes, ...s.hangs];
  assert.equal(failures.length, 0, `seed ${SEED}:\n${failures.map((f) => describe(SEED, f)).join("\n")}`);
  assert.equal(s.completed, CASES);
  // The mutants reach every stage: some pass, most fail, and most still parse as TOML.
  assert.ok(s.exit0 > CASES / 20, `${s.exit0} accepted`);
  assert.ok(s.parsed > CASES / 3, `${s.parsed} parsed`);
});

Deno.test("config fuzz: the watchdog ends a case that never returns and replaces a worker that died", async () => {
  const found: string[] = [];
  console.log('(expected below: "Uncaught (in worker) Error: worker dies at case 4")');
  const s = await fuzz({
    corpus: [],
    seed: 1,
    cases: 6,
    timeoutMs: 500,
    worker: new URL("./_stuck_worker.ts", import.meta.url),
    onFailure: (f) => found.push(`${f.kind} ${f.index}`),
  });
  assert.deepEqual(found, ["hang 2", "crash 4"]);
  assert.equal(s.completed, 4, "the cases after each failure still ran");
  assert.match(describe(1, s.hangs[0]!), /reproduce: deno run -A bench\/config_fuzz_bench\.ts --seed 1 --replay 2/);
});

interface JsonReport {
  readonly errors: number;
  readonly diagnostics: readonly {
    severity: string;
    message: string;
    path: readonly (string | number)[];
    file?: string;
    line?: number;
  }[];
}

/** Writes case `index`'s files to a directory and runs `mod.ts check -c` on it. */
async function checkWithCli(index: number, corpus: Awaited<ReturnType<typeof loadCorpus>>) {
  const input = caseInput(corpus, SEED, index);
  const dir = await Deno.makeTempDir({ prefix: "fuzz-cli-" });
  try {
    for (const [i, src] of input.config.sources.entries()) {
      const path = `${dir}/${String(i).padStart(2, "0")}_${src.file.replace(/^.*\//, "")}`;
      if (i === input.file) await Deno.writeFile(path, input.bytes);
      else await Deno.writeTextFile(path, src.text);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", "--allow-net", "mod.ts", "check", "--format", "json", "-c", dir],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config fuzz: mutants through the real CLI (`mod.ts check`) exit 0/1 as in process, with JSON diagnostics and no stack trace", async () => {
  const corpus = await loadCorpus();
  // The first cases of the seed that end in each way: accepted, a schema error, a TOML syntax error.
  const picked: CaseResult[] = [];
  const want = (r: CaseResult) =>
    (r.exitCode === 0 && picked.filter((p) => p.exitCode === 0).length < 2) ||
    (r.exitCode === 1 && r.parsed && picked.filter((p) => p.exitCode === 1 && p.parsed).length < 2) ||
    (r.exitCode === 1 && !r.parsed && picked.filter((p) => !p.parsed).length < 2);
  for (let i = 0; picked.length < 6 && i < 500; i++) {
    const r = runCase(corpus, SEED, i);
    if (want(r)) picked.push(r);
  }
  assert.equal(picked.length, 6);
  for (let i = 0; i < picked.length; i += 2) {
    const runs = await Promise.all(picked.slice(i, i + 2).map((r) => checkWithCli(r.index, corpus)));
    for (const [j, out] of runs.entries()) {
      const r = picked[i + j]!;
      const label = `case ${r.index} of seed ${SEED} (${r.ops.join("; ")})`;
      assert.equal(out.code, r.exitCode, `${label}: exit code\n${out.stderr}`);
      assert.doesNotMatch(out.stderr, /Uncaught|^\s+at /m, `${label}: a stack trace`);
      const report = JSON.parse(out.stdout) as JsonReport;
      assert.equal(report.errors > 0, out.code === 1, label);
      for (const d of report.diagnostics) {
        assert.ok(d.message.trim() !== "", `${label}: a diagnostic without a message`);
        assert.ok(d.path.length > 0 || (d.file && d.line), `${label}: unplaced ${d.message}`);
      }
    }
  }
});
