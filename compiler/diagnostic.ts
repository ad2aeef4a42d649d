/**
 * Diagnostics are data: every problem the compiler finds is one of these,
 * collected (never thrown) so a user sees every problem in one run.
 *
 * @module
 */

/** A key path into the config, e.g. `["locations", "api", "upstream"]`. */
export type KeyPath = readonly (string | number)[];

/** Where a value came from. */
export interface Origin {
  /** File path as given on the command line (or an etcd key). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** One problem found in a config. */
export interface Diagnostic {
  /** `error` fails the check; `warning` does not. */
  readonly severity: "error" | "warning";
  /** Stable machine-readable code, e.g. `unknown-key`. */
  readonly code: string;
  /** Path of the key the problem is about. */
  readonly path: KeyPath;
  /** What is wrong, in sentence case, with the bad value quoted. */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string;
  /** Where the key is, once positions are attached. */
  readonly file?: string;
  /** 1-based line. */
  readonly line?: number;
  /** 1-based column. */
  readonly column?: number;
  /** Other places involved (e.g. the first definition of a duplicate). */
  readonly related?: readonly Origin[];
}

/** Options of {@linkcode diag}. */
export interface DiagOptions {
  /** What to do about it. */
  hint?: string | undefined;
  /** Severity; `error` unless said. */
  severity?: "error" | "warning";
  /** Other places involved. */
  related?: readonly Origin[] | undefined;
}

/**
 * Builds a diagnostic.
 *
 * @example Usage
 * ```ts
 * import { diag } from "./diagnostic.ts";
 * const d = diag("unknown-key", ["basic", "nmae"], `Unknown key "nmae"`, { hint: `Did you mean "name"?` });
 * if (d.severity !== "error") throw new Error();
 * ```
 */
export function diag(
  code: string,
  path: KeyPath,
  message: string,
  options: DiagOptions = {},
): Diagnostic {
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = {
    severity: options.severity ?? "error",
    code,
    path,
    message,
  };
  if (options.hint !== undefined) d.hint = options.hint;
  if (options.related !== undefined) d.related = options.related;
  return d;
}

/** Renders a key path as `locations.api.upstream` (indices as `[0]`). */
export function formatPath(path: KeyPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(part)) out += out ? `.${part}` : part;
    else out += `${out ? "." : ""}${JSON.stringify(part)}`;
  }
  return out;
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** A sink that stages push diagnostics into. */
export type Diagnostics = Diagnostic[];
