/**
 * Renders diagnostics: text (`file:line:col  key.path  message  (hint)`),
 * JSON, or GitHub workflow commands (`::error file=…,line=…,col=…::…`).
 *
 * @module
 */
import { type Diagnostic, formatPath } from "./diagnostic.ts";

/** Output formats of `check`. */
export type Format = "text" | "json" | "github";

function where(d: Diagnostic): string {
  if (d.file === undefined) return "<config>";
  return `${d.file}:${d.line ?? 1}:${d.column ?? 1}`;
}

/** Options of {@linkcode formatText}. */
export interface TextOptions {
  /** Use ANSI colours. */
  color?: boolean;
}

/**
 * One line per diagnostic, plus related places indented below.
 *
 * @example Usage
 * ```ts
 * import { formatText } from "./format.ts";
 * const out = formatText([{ severity: "error", code: "x", path: ["a", "b"], message: "Bad", file: "c.toml", line: 2, column: 1 }]);
 * if (!out.startsWith("c.toml:2:1  a.b  error: Bad")) throw new Error(out);
 * ```
 */
export function formatText(diags: readonly Diagnostic[], options: TextOptions = {}): string {
  const c = (code: string, s: string) => options.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  const lines: string[] = [];
  for (const d of diags) {
    const sev = d.severity === "error" ? c("31;1", "error") : c("33;1", "warning");
    const path = d.path.length ? formatPath(d.path) : "-";
    let line = `${c("1", where(d))}  ${c("36", path)}  ${sev}: ${d.message}`;
    if (d.hint) line += `  ${c("2", `(${d.hint})`)}`;
    lines.push(line);
    for (const r of d.related ?? []) lines.push(`    also at ${r.file}:${r.line}:${r.column}`);
  }
  return lines.join("\n");
}

/** A JSON document: `{ errors, warnings, diagnostics: [...] }`. */
export function formatJson(diags: readonly Diagnostic[]): string {
  return JSON.stringify(
    {
      errors: diags.filter((d) => d.severity === "error").length,
      warnings: diags.filter((d) => d.severity === "warning").length,
      diagnostics: diags.map((d) => ({ ...d, key: formatPath(d.path) })),
    },
    null,
    2,
  );
}

function escapeData(s: string): string {
  return s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** GitHub Actions workflow commands, one per diagnostic. */
export function formatGithub(diags: readonly Diagnostic[]): string {
  return diags.map((d) => {
    const props = [
      d.file !== undefined ? `file=${escapeProperty(d.file)}` : undefined,
      d.line !== undefined ? `line=${d.line}` : undefined,
      d.column !== undefined ? `col=${d.column}` : undefined,
      `title=${escapeProperty(`${d.code} ${formatPath(d.path)}`.trim())}`,
    ].filter(Boolean).join(",");
    const msg = `${formatPath(d.path)}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`;
    return `::${d.severity === "error" ? "error" : "warning"} ${props}::${escapeData(msg)}`;
  }).join("\n");
}
