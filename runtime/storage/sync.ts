/**
 * `--sync TARGET`: copies the loaded config (-c) to another storage so
 * users can migrate, in both directions. An `etcd://` target gets one key
 * per item (`basic.toml`, `<section>/<name>.toml`); a directory gets the
 * same layout as files; a `.toml` path gets one file holding every item.
 * The config must compile first: a broken config is not copied.
 *
 * @module
 */
import { checkConfig } from "./check_config.ts";
import { syncSourcesToEtcd } from "./etcd_sources.ts";
import { isEtcdUrl, redact } from "./etcd_url.ts";
import { type ItemDocument, splitSources } from "./split.ts";

/** Writes item documents under `dir` (one file each) or into one `.toml` file; returns the paths written. */
export async function writeItemFiles(target: string, items: readonly ItemDocument[]): Promise<string[]> {
  if (target.endsWith(".toml")) {
    await Deno.writeTextFile(target, items.map((i) => i.text).join("\n"));
    return [target];
  }
  const written: string[] = [];
  for (const item of items) {
    const path = `${target.replace(/\/+$/, "")}/${item.key}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, item.text);
    written.push(path);
  }
  return written;
}

/**
 * Checks `conf`, then copies it to `target`. Returns the exit code (0 done,
 * 1 the config has errors, 2 the copy failed); `report` prints diagnostics.
 */
export async function syncConfig(
  conf: string,
  target: string,
  report: (diagnostics: Awaited<ReturnType<typeof checkConfig>>["diagnostics"]) => void,
): Promise<number> {
  const checked = await checkConfig(conf);
  if (checked.readError) {
    console.error(checked.readError);
    return 2;
  }
  report(checked.diagnostics);
  if (!checked.plan || !checked.sources) return 1;
  try {
    // Copy the very sources that were checked: a second read could see another config (etcd or a file may change).
    const sources = checked.sources;
    if (isEtcdUrl(target)) await syncSourcesToEtcd(target, sources);
    else await writeItemFiles(target, splitSources(sources));
  } catch (e) {
    console.error(`--sync failed: ${(e as Error).message}`);
    return 2;
  }
  console.error(`copied ${isEtcdUrl(conf) ? redact(conf) : conf} to ${isEtcdUrl(target) ? redact(target) : target}`);
  return 0;
}
