/**
 * `check --live` for `error_page`: each page written as a path is read, as activation will read it, so that a
 * missing or unreadable file is a `check` error at its `pages` entry and not a start that fails.
 *
 * @module
 */
import { diag, type Diagnostic, type ErrorPagePlan, type Plan } from "../../compiler/mod.ts";
import { readPageFile } from "../plugins/error_page.ts";

/** Diagnostics for the page files of every `error_page` plugin of `plan` that cannot be read. */
export function checkErrorPageFiles(plan: Plan): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of plan.plugins) {
    if (p.category !== "error_page") continue;
    for (const page of (p.config as ErrorPagePlan).pages) {
      if (page.file === undefined) continue;
      try {
        readPageFile(page.file);
      } catch (e) {
        out.push(
          diag("error-page-file", ["plugins", p.name, "pages", page.index], `page ${page.file} can not be read: ${e}`, {
            hint: "Point the page at a file the proxy can read, or write the page inline",
          }),
        );
      }
    }
  }
  return out;
}
