/**
 * `--to-hcl` / `--to-kdl`: the loaded config (whatever its format or
 * storage), merged, written as HCL or KDL. `$ENV:` / `$FILE:` references
 * stay as written.
 *
 * @module
 */
import { ConfigReadError, parseSources, type Source } from "../../compiler/mod.ts";
import { toHcl } from "./hcl_write.ts";
import { toKdl } from "./kdl_write.ts";

/**
 * The config of `sources` as HCL or KDL text. Throws {@linkcode ConfigReadError}
 * when the sources do not parse or hold a value the format cannot write.
 */
export function exportConfig(sources: readonly Source[], format: "hcl" | "kdl"): string {
  const loaded = parseSources(sources);
  if (loaded.diagnostics.length) {
    throw new ConfigReadError(`The config cannot be converted: ${loaded.diagnostics[0]!.message}`);
  }
  try {
    return format === "hcl" ? toHcl(loaded.raw) : toKdl(loaded.raw);
  } catch (e) {
    if (e instanceof TypeError) throw new ConfigReadError(`Cannot write ${format.toUpperCase()}: ${e.message}`);
    throw e;
  }
}
