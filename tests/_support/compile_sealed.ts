/**
 * The compiler with no permission at all: run by `tests/compiler_no_io_test.ts` as
 * `deno run --deny-read --deny-net --deny-env --deny-write --deny-run --deny-sys --deny-ffi`.
 * Reads config files' bytes as JSON on stdin (stdin needs no permission), runs every compiler function `check`
 * uses for text input, and prints what they gave as JSON. Any I/O the compiler does, at module load or lazily in
 * one of these calls, throws `NotCapable` here and the process exits non-zero.
 *
 * @module
 */
import {
  checkSources,
  ConfigReadError,
  formatGithub,
  formatJson,
  formatText,
  readErrorResult,
  sourceFromBytes,
  withDiagnostics,
} from "../../compiler/mod.ts";

/** What the parent sends: each file's name and bytes. */
export interface SealedInput {
  readonly files: readonly { readonly file: string; readonly bytes: readonly number[] }[];
}

/** What this process prints. */
export interface SealedOutput {
  readonly exitCode: number;
  readonly planHash: string | undefined;
  readonly text: string;
  readonly json: string;
  readonly github: string;
  readonly liveExitCode: number;
  readonly readError: string | undefined;
}

// The control: a read here must fail, or the flags do not seal the process.
if (Deno.args.includes("--probe-read")) await Deno.readTextFile(new URL(import.meta.url));

const input = JSON.parse(await new Response(Deno.stdin.readable).text()) as SealedInput;
const sources = input.files.map((f) => sourceFromBytes(f.file, new Uint8Array(f.bytes)));
const result = checkSources(sources);
const live = withDiagnostics(result, []);
const unreadable = readErrorResult(new ConfigReadError("Cannot read config", { cause: "a hint" }));
const output: SealedOutput = {
  exitCode: result.exitCode,
  planHash: result.plan?.hash,
  text: formatText(result.diagnostics, { color: false }),
  json: formatJson(result.diagnostics),
  github: formatGithub(result.diagnostics),
  liveExitCode: live.exitCode,
  readError: unreadable.readError,
};
console.log(JSON.stringify(output));
