/**
 * `check`'s verdict, pure: sources compiled exactly as the runtime compiles
 * them, with the exit code the command gives. Reading the config, and the
 * `--live` checks (certificate files, DNS), are `runtime/storage/`'s part;
 * their diagnostics come back here through {@linkcode withDiagnostics}.
 *
 * @module
 */
import { attachOrigins, type CompileOptions, type CompileResult, compileSources, sortDiagnostics } from "./compile.ts";
import { type Diagnostic, hasErrors } from "./diagnostic.ts";
import type { ConfigReadError, Source } from "./load.ts";

/** What `check` found: the compile result and the exit code. */
export interface CheckResult extends CompileResult {
  /** 0 no error, 1 config errors, 2 I/O or usage error. */
  readonly exitCode: 0 | 1 | 2;
  /** Set when the config could not be read at all. */
  readonly readError?: string;
  /** The sources that were compiled (absent with `readError`). */
  readonly sources?: readonly Source[];
}

/**
 * Compiles sources given as texts and gives `check`'s verdict: the Plan only when there is no error. `options`
 * carries the resolver of `$ENV:` / `$FILE:` references (the runtime's, which reads them).
 *
 * @example Usage
 * ```ts
 * import { checkSources } from "./check.ts";
 * const r = checkSources([{ file: "a.toml", text: "[basic]\nname = 'x'\n" }]);
 * if (r.exitCode !== 0 || !r.plan) throw new Error();
 * ```
 */
export function checkSources(sources: readonly Source[], options: CompileOptions = {}): CheckResult {
  const result = compileSources(sources, options);
  return {
    ...(result.plan ? { plan: result.plan } : {}),
    diagnostics: result.diagnostics,
    origins: result.origins,
    sources,
    exitCode: hasErrors(result.diagnostics) ? 1 : 0,
  };
}

/**
 * A result with more diagnostics (found after compiling, e.g. by `check --live`): they get their file and line
 * from the result's origins, all are sorted again, and the exit code and the Plan follow the new errors.
 */
export function withDiagnostics(result: CheckResult, more: readonly Diagnostic[]): CheckResult {
  const sources = result.sources ?? [];
  const diagnostics = sortDiagnostics([...result.diagnostics, ...attachOrigins(more, result.origins, sources)]);
  const ok = !hasErrors(diagnostics);
  return {
    ...(ok && result.plan ? { plan: result.plan } : {}),
    diagnostics,
    origins: result.origins,
    sources,
    exitCode: ok ? 0 : 1,
  };
}

/** `check`'s verdict when the config could not be read: exit code 2 and the message (with a hint as its cause). */
export function readErrorResult(error: ConfigReadError): CheckResult {
  const cause = typeof error.cause === "string" ? ` (${error.cause})` : "";
  return { exitCode: 2, diagnostics: [], origins: new Map(), readError: error.message + cause };
}
