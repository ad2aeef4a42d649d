/**
 * A `-c` path's sources: a `.toml` file, every `*.toml` below a directory
 * (read as Pingap reads it: sorted, either layout), or every key of an
 * `etcd://` URL. The texts go to the compiler as they are.
 *
 * @module
 */
import { ConfigReadError, type Source, sourceFromBytes } from "../../compiler/mod.ts";
import { readEtcdSources } from "./etcd_sources.ts";
import { isEtcdUrl } from "./etcd_url.ts";

async function walk(dir: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const p = `${dir}/${entry.name}`;
    if (entry.isDirectory) await walk(p, out);
    else if (entry.isFile && entry.name.endsWith(".toml")) out.push(p);
  }
}

/**
 * Reads a `.toml` file, every `*.toml` below a directory, sorted, or every
 * key of an `etcd://` URL (see `etcd_sources.ts`).
 * Throws {@linkcode ConfigReadError} when the path cannot be read.
 */
export async function readSources(path: string): Promise<Source[]> {
  if (isEtcdUrl(path)) return await readEtcdSources(path);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    throw new ConfigReadError(`Cannot read config "${path}": ${(e as Error).message}`, { cause: e });
  }
  const files: string[] = [];
  if (stat.isDirectory) {
    const dir = path.replace(/\/+$/, "");
    try {
      await walk(dir, files);
    } catch (e) {
      throw new ConfigReadError(`Cannot read directory "${path}": ${(e as Error).message}`, { cause: e });
    }
    files.sort();
    if (files.length === 0) {
      throw new ConfigReadError(`Directory "${path}" holds no .toml file`, {
        cause: "HCL and KDL configs are not supported; convert them to TOML",
      });
    }
  } else {
    files.push(path);
  }
  const sources: Source[] = [];
  for (const file of files) {
    try {
      sources.push(sourceFromBytes(file, await Deno.readFile(file)));
    } catch (e) {
      throw new ConfigReadError(`Cannot read "${file}": ${(e as Error).message}`, { cause: e });
    }
  }
  return sources;
}
