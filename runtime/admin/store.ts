/**
 * The stored config as the admin API edits it: the texts of the `-c` file,
 * of each file below a `-c` directory, or of each etcd key; an edit (put or
 * delete one item, replace `basic`, import a whole config) computed as new
 * texts in memory, so the compiler checks the whole result before anything
 * is written; and the write itself (a temporary file renamed over, or one
 * etcd transaction).
 *
 * Layouts are kept: an item is rewritten in the file (or key) that holds it;
 * a new item of a directory or etcd gets its own `<section>/<name>.toml`.
 * A rewritten file loses its comments (as in Pingap, whose admin writes
 * TOML it generates).
 *
 * @module
 */
import { parse, stringify } from "smol-toml";
import { renameInDoc } from "./rename.ts";
import {
  ConfigReadError,
  isTable,
  ITEM_SECTIONS,
  type ItemSection,
  type RawTree,
  type Source,
} from "../../compiler/mod.ts";
import {
  b64,
  EtcdClient,
  invalidItemName,
  isEtcdUrl,
  parseEtcdUrl,
  readSources,
  splitSources,
} from "../storage/mod.ts";

/** A section the API edits: `basic` or one of the item sections. */
export type Section = "basic" | ItemSection;

/** Pingap's API category names and the sections they edit. */
export const CATEGORIES: Readonly<Record<string, ItemSection>> = {
  server: "servers",
  location: "locations",
  upstream: "upstreams",
  plugin: "plugins",
  certificate: "certificates",
  storage: "storages",
};

/** The config as stored. */
export interface Stored {
  readonly conf: string;
  readonly kind: "file" | "dir" | "etcd";
  readonly sources: readonly Source[];
}

/** One edit. */
export type Edit =
  | { readonly op: "put"; readonly section: Section; readonly name: string; readonly value: Record<string, unknown> }
  | { readonly op: "delete"; readonly section: Section; readonly name: string }
  | { readonly op: "rename"; readonly section: Section; readonly name: string; readonly to: string }
  | { readonly op: "import"; readonly text: string };

/** A file (or etcd key, by its source name) to write, or to remove when `text` is null. */
export interface FileChange {
  readonly file: string;
  readonly before: string | null;
  readonly text: string | null;
}

/** What an edit makes: the sources to compile, and the changes to write once they compile. */
export interface EditResult {
  readonly sources: readonly Source[];
  readonly changes: readonly FileChange[];
}

/** Reads the stored config. An etcd prefix with no key reads as an empty config. */
export async function readStored(conf: string): Promise<Stored> {
  if (isEtcdUrl(conf)) {
    try {
      return { conf, kind: "etcd", sources: await readSources(conf) };
    } catch (e) {
      if (e instanceof ConfigReadError && /holds no key/.test(e.message)) return { conf, kind: "etcd", sources: [] };
      throw e;
    }
  }
  const stat = await Deno.stat(conf);
  if (!stat.isDirectory) return { conf, kind: "file", sources: await readSources(conf) };
  let sources: Source[];
  try {
    sources = await readSources(conf);
  } catch (e) {
    // A directory whose files were all removed is an empty config, which an import can fill again.
    if (e instanceof ConfigReadError && /holds no \.toml file/.test(e.message)) sources = [];
    else throw e;
  }
  return { conf, kind: "dir", sources };
}

function parseDoc(source: Source): Record<string, unknown> {
  try {
    return parse(source.text) as Record<string, unknown>;
  } catch (e) {
    throw new EditError(`${source.file} does not parse as TOML (${(e as Error).message.split("\n")[0]}): fix it first`);
  }
}

/** An edit that cannot be made (the message says why); a 400. */
export class EditError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "EditError";
  }
}

function holds(doc: Record<string, unknown>, section: Section, name: string): boolean {
  if (section === "basic") return isTable(doc.basic);
  const items = doc[section];
  return isTable(items) && Object.hasOwn(items, name);
}

function text(doc: Record<string, unknown>): string {
  return stringify(doc).trimEnd() + "\n";
}

/** Where a new item goes: its own file (directory, etcd) or the one file. */
function newFile(stored: Stored, section: Section, name: string): string {
  const rel = section === "basic" ? "basic.toml" : `${section}/${name}.toml`;
  if (stored.kind === "dir") return `${stored.conf.replace(/\/+$/, "")}/${rel}`;
  const config = parseEtcdUrl(stored.conf);
  return `etcd://${config.hosts[0]}${config.prefix}${rel}`;
}

function withoutEmpty(doc: Record<string, unknown>, section: string): void {
  const v = doc[section];
  if (isTable(v) && Object.keys(v).length === 0) delete doc[section];
}

/**
 * The sources and changes an edit makes. Throws {@linkcode EditError} when it cannot be made (a name that cannot
 * be a file, a file that does not parse, nothing to import).
 */
export function applyEdit(stored: Stored, edit: Edit): EditResult {
  if (edit.op === "import") return applyImport(stored, edit.text);
  if (edit.op === "rename") return applyRename(stored, edit.section, edit.name, edit.to);
  const { section, name } = edit;
  if (section !== "basic") {
    const why = invalidItemName(name);
    if (why) throw new EditError(why);
  }
  const sources = [...stored.sources];
  const changes: FileChange[] = [];
  let index = sources.findIndex((s) => holds(parseDoc(s), section, name));
  if (index < 0 && edit.op === "delete") {
    throw new EditError(`${section === "basic" ? "basic" : `${section}.${name}`} is not in the stored config`);
  }
  if (index < 0 && stored.kind === "file") index = 0;
  if (index < 0) {
    const file = newFile(stored, section, name);
    const doc = section === "basic" ? { basic: (edit as { value: unknown }).value } : {
      [section]: { [name]: (edit as { value: unknown }).value },
    };
    const t = text(doc);
    sources.push({ file, text: t });
    changes.push({ file, before: null, text: t });
    return { sources, changes };
  }
  const source = sources[index] ?? { file: stored.conf, text: "" };
  const doc = source.text === "" ? {} : parseDoc(source);
  if (section === "basic") {
    if (edit.op === "put") doc.basic = edit.value;
    else delete doc.basic;
  } else {
    const items = isTable(doc[section]) ? { ...doc[section] as Record<string, unknown> } : {};
    if (edit.op === "put") items[name] = edit.value;
    else delete items[name];
    doc[section] = items;
    withoutEmpty(doc, section);
  }
  const empty = Object.keys(doc).length === 0 && stored.kind !== "file";
  const t = empty ? null : text(doc);
  if (t === null) sources.splice(index, 1);
  else sources[index] = { file: source.file, text: t };
  changes.push({ file: source.file, before: stored.sources[index]?.text ?? null, text: t });
  return { sources, changes };
}

/** `section.name` renamed `to` where it is stored (its file stays), with every reference to it (rename.ts). */
function applyRename(stored: Stored, section: Section, name: string, to: string): EditResult {
  if (section === "basic") throw new EditError("basic has no name to change");
  for (const n of [name, to]) {
    const why = invalidItemName(n);
    if (why) throw new EditError(why);
  }
  const docs = stored.sources.map(parseDoc);
  if (!docs.some((d) => holds(d, section, name))) throw new EditError(`${section}.${name} is not in the stored config`);
  if (docs.some((d) => holds(d, section, to))) throw new EditError(`${section}.${to} exists already`);
  const sources = [...stored.sources];
  const changes: FileChange[] = [];
  docs.forEach((doc, i) => {
    if (!renameInDoc(doc, section, name, to)) return;
    const source = stored.sources[i]!;
    sources[i] = { file: source.file, text: text(doc) };
    changes.push({ file: source.file, before: source.text, text: sources[i]!.text });
  });
  return { sources, changes };
}

function applyImport(stored: Stored, imported: string): EditResult {
  let doc: Record<string, unknown>;
  try {
    doc = parse(imported) as Record<string, unknown>;
  } catch (e) {
    throw new EditError(`The imported config does not parse as TOML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (Object.keys(doc).length === 0) throw new EditError("The imported config is empty");
  if (stored.kind === "file") {
    const before = stored.sources[0]?.text ?? null;
    return {
      sources: [{ file: stored.conf, text: imported }],
      changes: [{ file: stored.conf, before, text: imported }],
    };
  }
  // A directory or etcd: one document per item, and the old ones that are not written again removed.
  const items = splitSources([{ file: "import.toml", text: imported }]);
  const changes: FileChange[] = [];
  const sources: Source[] = [];
  const written = new Set<string>();
  for (const item of items) {
    const [section, ...rest] = item.key.replace(/\.toml$/, "").split("/");
    const file = newFile(stored, section === "basic" ? "basic" : section as Section, rest.join("/"));
    written.add(file);
    sources.push({ file, text: item.text });
    const before = stored.sources.find((s) => s.file === file)?.text ?? null;
    if (before !== item.text) changes.push({ file, before, text: item.text });
  }
  for (const s of stored.sources) if (!written.has(s.file)) changes.push({ file: s.file, before: s.text, text: null });
  return { sources, changes };
}

async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${dir}/.${path.slice(path.lastIndexOf("/") + 1)}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, data);
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes the changes of an edit that compiled. */
export async function writeChanges(stored: Stored, changes: readonly FileChange[]): Promise<void> {
  if (stored.kind !== "etcd") {
    for (const c of changes) {
      if (c.text === null) {
        await Deno.remove(c.file).catch((e) => e instanceof Deno.errors.NotFound ? 0 : Promise.reject(e));
      } else await writeFileAtomic(c.file, c.text);
    }
    return;
  }
  const config = parseEtcdUrl(stored.conf);
  const host = `etcd://${config.hosts[0]}`;
  const success = changes.map((c) => {
    const key = b64(c.file.slice(host.length));
    return c.text === null ? { request_delete_range: { key } } : { request_put: { key, value: b64(c.text) } };
  });
  // One transaction: one revision, one reload for the nodes watching.
  await new EtcdClient(config).call("/kv/txn", { success });
}

/** The raw tree of the stored config (includes not expanded), merged as the compiler merges it. */
export function storedTree(stored: Stored): RawTree {
  const raw: Record<string, unknown> = {};
  for (const s of stored.sources) {
    let doc: Record<string, unknown>;
    try {
      doc = parse(s.text) as Record<string, unknown>;
    } catch {
      continue;
    }
    for (const [section, value] of Object.entries(doc)) {
      if ((ITEM_SECTIONS as readonly string[]).includes(section) && isTable(value) && isTable(raw[section])) {
        raw[section] = { ...value, ...raw[section] as Record<string, unknown> };
      } else if (!(section in raw)) raw[section] = value;
    }
  }
  return raw;
}
