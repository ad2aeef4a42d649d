/**
 * A `-c` path's sources: a `.toml`, `.hcl` or `.kdl` file, a directory (read
 * as Pingap reads it: every `*.toml` below it, sorted, either layout; if
 * there is none, every `*.hcl`; if none, every `*.kdl`), or every key of an
 * `etcd://` URL. TOML texts go to the compiler as they are; HCL and KDL files
 * are converted to TOML first (`converted_source.ts`), keeping their names.
 *
 * @module
 */
import { ConfigReadError, type Source, sourceFromBytes } from "../../compiler/mod.ts";
import { convertSource, formatOf } from "./converted_source.ts";
import { readEtcdSources } from "./etcd_sources.ts";
import { isEtcdUrl } from "./etcd_url.ts";

/** The files below `dir` by extension (`.toml`, `.hcl`, `.kdl`). */
async function walk(dir: string, out: Record<string, string[]>): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const p = `${dir}/${entry.name}`;
    if (entry.isDirectory) await walk(p, out);
    else if (entry.isFile) {
      const ext = entry.name.slice(entry.name.lastIndexOf(".") + 1);
      out[ext]?.push(p);
    }
  }
}

/**
 * Reads a `.toml`, `.hcl` or `.kdl` file, a directory's config files
 * (sorted; TOML, or else HCL, or else KDL), or every key of an `etcd://`
 * URL (see `etcd_sources.ts`). Throws {@linkcode ConfigReadError} when the
 * path cannot be read; a file that does not parse is a diagnostic, not a
 * throw.
 */
export async function readSources(path: string): Promise<Source[]> {
  if (isEtcdUrl(path)) return await readEtcdSources(path);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    throw new ConfigReadError(`Cannot read config "${path}": ${(e as Error).message}`, { cause: e });
  }
  let files: string[] = [];
  if (stat.isDirectory) {
    const dir = path.replace(/\/+$/, "");
    const found: Record<string, string[]> = { toml: [], hcl: [], kdl: [] };
    try {
      await walk(dir, found);
    } catch (e) {
      throw new ConfigReadError(`Cannot read directory "${path}": ${(e as Error).message}`, { cause: e });
    }
    files = [found.toml!, found.hcl!, found.kdl!].find((f) => f.length) ?? [];
    files.sort();
    if (files.length === 0) throw new ConfigReadError(`Directory "${path}" holds no .toml, .hcl or .kdl file`);
  } else {
    files.push(path);
  }
  const sources: Source[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      throw new ConfigReadError(`Cannot read "${file}": ${(e as Error).message}`, { cause: e });
    }
    const format = formatOf(file);
    sources.push(format ? await convertSource(file, bytes, format) : sourceFromBytes(file, bytes));
  }
  return sources;
}
