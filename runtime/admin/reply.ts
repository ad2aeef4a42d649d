/**
 * The admin API's answers: JSON with Pingap's `{"message": …}` errors, and
 * diagnostics as JSON a form can place at its field (key path as a list and
 * as text, message, hint, file and line).
 *
 * @module
 */
import { type Diagnostic, formatPath } from "../../compiler/mod.ts";

/** A JSON answer. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** An error answer, Pingap's shape: `{"message": …}` (plus ours, e.g. `diagnostics`). */
export function failure(status: number, message: string, more: Record<string, unknown> = {}): Response {
  return json({ message, ...more }, status);
}

/** 204, Pingap's answer to a write. */
export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** A diagnostic as JSON. */
export interface DiagnosticJson {
  readonly severity: "error" | "warning";
  readonly code: string;
  /** The key path, e.g. `["locations", "api", "upstream"]`. */
  readonly path: readonly (string | number)[];
  /** The same as text, e.g. `locations.api.upstream`. */
  readonly key: string;
  readonly message: string;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/** Diagnostics as JSON. */
export function diagnosticsJson(diagnostics: readonly Diagnostic[]): DiagnosticJson[] {
  return diagnostics.map((d) => ({
    severity: d.severity,
    code: d.code,
    path: d.path,
    key: formatPath(d.path),
    message: d.message,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
    ...(d.file !== undefined ? { file: d.file } : {}),
    ...(d.line !== undefined ? { line: d.line } : {}),
    ...(d.column !== undefined ? { column: d.column } : {}),
  }));
}
