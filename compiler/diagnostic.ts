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
    message: shortenValues(message),
  };
  if (options.hint !== undefined) d.hint = shortenValues(options.hint);
  if (options.related !== undefined) d.related = options.related;
  return d;
}

/**
 * Renders a key path as `locations.api.upstream` (indices as `[0]`). A
 * name longer than {@linkcode QUOTE_LIMIT} is quoted and shortened.
 */
export function formatPath(path: KeyPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (part.length <= QUOTE_LIMIT && /^[A-Za-z0-9_-]+$/.test(part)) out += out ? `.${part}` : part;
    else out += `${out ? "." : ""}${shortenValues(JSON.stringify(part))}`;
  }
  return out;
}

/** Characters of a quoted value kept in a message; the rest is counted, not shown. */
export const QUOTE_LIMIT = 80;

/** A run of other characters longer than this is shortened too (a value quoted some other way, or not at all). */
const RUN_LIMIT = 2 * QUOTE_LIMIT;

/** The longest message or hint, whatever it holds. */
const TEXT_LIMIT = 2000;

/**
 * Shortens every value a message quotes, so that a 10 MB value makes a
 * readable line: a `"…"` string longer than {@linkcode QUOTE_LIMIT}
 * characters keeps its first ones and says how long it was, as
 * `"abc…" (N bytes)`; any other run of more than twice that many
 * characters without a space or quote is cut the same way, and so is the
 * whole text past 2,000 characters (well above the longest "Known keys" hint). {@linkcode diag}
 * applies it to every message and hint, so callers quote values in full.
 *
 * @example Usage
 * ```ts
 * import { shortenValues } from "./diagnostic.ts";
 * const m = shortenValues(`Unknown value ${JSON.stringify("x".repeat(1_000_000))}`);
 * if (m.length > 120 || !m.endsWith("…\" (1000000 bytes)")) throw new Error(m);
 * ```
 */
export function shortenValues(text: string): string {
  if (text.length <= QUOTE_LIMIT) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = closingQuote(text, i + 1);
      if (end > 0) {
        const inner = text.slice(i + 1, end);
        out += inner.length > QUOTE_LIMIT
          ? `"${cut(inner, QUOTE_LIMIT)}…" (${byteLength(unescape(inner))} bytes)`
          : `"${inner}"`;
        i = end + 1;
        continue;
      }
    }
    // A run of characters that are neither spaces nor quotes.
    let j = i;
    while (j < text.length && text[j] !== '"' && !/\s/.test(text[j]!)) j++;
    if (j === i) {
      out += c;
      i++;
      continue;
    }
    const run = text.slice(i, j);
    out += run.length > RUN_LIMIT ? `${cut(run, RUN_LIMIT)}…(${byteLength(run)} bytes)` : run;
    i = j;
  }
  // Many short values (a long list of strings) can still add up.
  return out.length > TEXT_LIMIT ? `${cut(out, TEXT_LIMIT)}…(${byteLength(text)} bytes in all)` : out;
}

/** Index of the `"` closing a JSON string whose text starts at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === '"') return i;
  }
  return -1;
}

/** The first `n` characters of escaped text, never ending inside an escape or a surrogate pair. */
function cut(text: string, n: number): string {
  let head = text.slice(0, n).replace(/\\(u[0-9A-Fa-f]{0,3})?$/, "");
  // An escape cut in two leaves a lone backslash only when the count of trailing ones is odd.
  const slashes = /\\+$/.exec(head)?.[0].length ?? 0;
  if (slashes % 2 === 1) head = head.slice(0, -1);
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  return head;
}

/** The string a JSON string's text stands for (the text itself when it is not valid JSON). */
function unescape(inner: string): string {
  if (!inner.includes("\\")) return inner;
  try {
    return JSON.parse(`"${inner}"`);
  } catch {
    return inner;
  }
}

/** UTF-8 length of a string, without encoding it. */
function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** A sink that stages push diagnostics into. */
export type Diagnostics = Diagnostic[];
