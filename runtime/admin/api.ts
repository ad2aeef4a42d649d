/**
 * The admin API's routes, relative to `<path>/api` (Pingap's, inventory
 * §7.2, with its shapes where a client depends on them), plus ours:
 * `?dry_run=1` on every write, `/status`, `/schema`, and history restore.
 *
 * | method | route | answer |
 * | --- | --- | --- |
 * | GET | `/configs/{category}` | items of `server`, `location`, `upstream`, `plugin`, `certificate`, `storage` by name |
 * | GET | `/configs/full` | `{full, original, hcl, kdl}`: TOML, and `original` written as HCL and KDL (secrets masked) |
 * | GET | `/configs` (or another category) | the whole config |
 * | POST | `/configs/{category}/{name}` | JSON item (`/configs/basic` replaces `[basic]`); 204; another category: 400 |
 * | POST | `/configs/import` | a whole config as TOML (secret placeholders keep the stored values); 204 |
 * | DELETE | `/configs/{category}/{name}` | 204 |
 * | POST | `/configs/{category}/{name}/rename` | `{to}`: the item renamed, every reference to it too (ours); 204 |
 * | GET | `/config-history/{category}/{name}` | `{history: [{id, created_at, user, data}]}` |
 * | POST | `/config-history/{category}/{name}/restore` | `{id}`: writes that version back; 204 |
 * | GET | `/basic` | process facts, and `readonly`: whether this login may only read (ours) |
 * | GET | `/status` | upstream health per backend, request counts and rates per server and location |
 * | GET | `/schema` | the config's JSON Schema (the one schema definition: docs, defaults, enums) |
 * | GET | `/certificates` | parsed certificates, never the PEM or the key |
 * | POST | `/restart` | a reload (every change is applied in place here); 204 |
 * | POST | `/aes` | `{category: "encrypt" \| other, key, data}`: `{value}`, Pingap's AES-256-GCM-SIV (decrypt unless `encrypt`) |
 *
 * Secrets never leave (secrets.ts). A write that would break the config is
 * a 400 with the diagnostics; nothing is saved (commit.ts).
 *
 * @module
 */
import { parse, stringify } from "smol-toml";
import { aesDecrypt, aesEncrypt, renderJsonSchema } from "../../compiler/mod.ts";
import type { PluginEnv } from "../plugins/mod.ts";
import { toHcl, toKdl } from "../storage/mod.ts";
import { adminContext } from "./context.ts";
import { commit } from "./commit.ts";
import { readHistory } from "./history.ts";
import { unmaskImport } from "./import_secrets.ts";
import { failure, json, noContent } from "./reply.ts";
import { maskItem, maskTree, unmaskItem } from "./secrets.ts";
import { basicInfo, liveStatus, type RateMemory } from "./status.ts";
import { CATEGORIES, readStored, type Section, storedTree } from "./store.ts";

/** The largest request body (as Pingap 0.16). */
export const MAX_BODY = 8 * 1024 * 1024;

/** One API request, after authentication. */
export interface ApiRequest {
  readonly method: string;
  /** The route, below `/api` (e.g. `/configs/upstream`), not decoded. */
  readonly route: string;
  readonly query: URLSearchParams;
  /** Reads the body (at most {@linkcode MAX_BODY}; more is an error). */
  readonly body: () => Promise<string>;
  readonly user: string;
  /** The login may only read (`readonly_authorizations`, `readonly_tokens`): its writes were refused before. */
  readonly readonly: boolean;
  readonly ip: string;
  readonly env: PluginEnv;
  readonly rates: RateMemory;
}

/** The section a category writes, or undefined for an unknown one (Pingap 0.16: `invalid category`). */
function section(category: string): Section | undefined {
  return category === "basic" ? "basic" : CATEGORIES[category];
}

function invalidCategory(category: string): Response {
  return failure(400, `invalid category: ${category}`);
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.get("dry_run");
  return v !== null && v !== "0" && v !== "false";
}

async function readConfig(): Promise<{ readonly tree: Record<string, unknown> } | { readonly failed: Response }> {
  const conf = adminContext().conf;
  if (!conf) {
    return {
      failed: failure(503, "The config is not stored anywhere this admin can read (the proxy was not started with -c)"),
    };
  }
  return { tree: storedTree(await readStored(conf)) as Record<string, unknown> };
}

/**
 * The config with each item's `includes` merged in (the fragment's keys win, as the compiler merges them), for
 * `/configs/full`. A secret storage is never merged (its value would show unmasked inside the item).
 */
function expandIncludes(raw: Record<string, unknown>): Record<string, unknown> {
  const storages = (raw.storages ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = { ...raw };
  for (const section of ["servers", "locations", "upstreams"]) {
    const items = raw[section];
    if (items === null || typeof items !== "object") continue;
    out[section] = Object.fromEntries(
      Object.entries(items).map(([name, item]) => {
        const { includes, ...rest } = item as Record<string, unknown>;
        if (!Array.isArray(includes)) return [name, item];
        let merged: Record<string, unknown> = rest;
        for (const ref of includes) {
          const storage = storages[String(ref)];
          if (!storage || storage.category === "secret" || storage.secret || typeof storage.value !== "string") {
            continue;
          }
          try {
            merged = { ...merged, ...parse(storage.value) as Record<string, unknown> };
          } catch {
            // A fragment that does not parse is the compiler's to report.
          }
        }
        return [name, merged];
      }),
    );
  }
  return out;
}

/**
 * The stored config, secrets masked, written by the `--to-hcl` / `--to-kdl` writers; a value the format cannot hold
 * reads as a comment saying so (the TOML stays the one to edit).
 */
function written(masked: Record<string, unknown>, format: "hcl" | "kdl"): string {
  try {
    return format === "hcl" ? toHcl(masked) : toKdl(masked);
  } catch (e) {
    return `${format === "hcl" ? "#" : "//"} This config cannot be written as ${format.toUpperCase()}: ${
      (e as Error).message
    }\n`;
  }
}

async function getConfigs(category: string): Promise<Response> {
  const read = await readConfig();
  if ("failed" in read) return read.failed;
  const raw = read.tree;
  const masked = maskTree(raw);
  if (category === "full") {
    return json({
      full: stringify(maskTree(expandIncludes(raw))),
      original: stringify(masked),
      hcl: written(masked, "hcl"),
      kdl: written(masked, "kdl"),
    });
  }
  const s = CATEGORIES[category];
  if (s) return json(masked[s] ?? {});
  return json(masked);
}

async function putConfig(req: ApiRequest, category: string, name: string): Promise<Response> {
  if (name === "" && CATEGORIES[category]) return failure(400, "name is empty");
  let value: unknown;
  try {
    value = JSON.parse(await req.body());
  } catch (e) {
    return failure(400, `The body is not JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return failure(400, "The body must be a JSON object: the item's keys");
  }
  const s = section(category);
  if (!s) return invalidCategory(category);
  const read = await readConfig();
  if ("failed" in read) return read.failed;
  const raw = read.tree;
  const stored = (s === "basic" ? raw.basic : (raw[s] as Record<string, unknown> | undefined)?.[name]) as
    | Record<string, unknown>
    | undefined;
  const item = unmaskItem(s, value as Record<string, unknown>, stored);
  if ("missing" in item) {
    return failure(400, `"${item.missing}" is the secret placeholder, but there is no stored value to keep`);
  }
  return commit({ op: "put", section: s, name, value: item }, options(req));
}

/** `/configs/{category}/{name}/rename` with `{"to": "<new name>"}`: the item and every reference to it (rename.ts). */
async function rename(req: ApiRequest, s: Section, name: string): Promise<Response> {
  let to: unknown;
  try {
    to = (JSON.parse(await req.body()) as { to?: unknown })?.to;
  } catch {
    to = undefined;
  }
  if (typeof to !== "string" || to === "") return failure(400, 'The body must be {"to": "<the new name>"}');
  return commit({ op: "rename", section: s, name, to }, options(req));
}

function options(req: ApiRequest) {
  const proxy = req.env.proxy;
  return {
    user: req.user,
    ip: req.ip,
    dryRun: dryRun(req.query),
    ...(proxy ? { serving: () => proxy.plan()?.hash } : {}),
  };
}

async function history(req: ApiRequest, parts: string[]): Promise<Response> {
  const conf = adminContext().conf;
  if (!conf) {
    return failure(503, "The config is not stored anywhere this admin can read (the proxy was not started with -c)");
  }
  const category = parts[0] ?? "";
  const s = section(category);
  if (!s) return invalidCategory(category);
  const name = parts[1] ?? "";
  if (s !== "basic" && name === "") return failure(400, "Url is invalid(no name)");
  const list = await readHistory(conf, s, s === "basic" ? "" : name);
  const masked = list.map((e) => ({ ...e, data: e.data ? maskItem(s, e.data) : null }));
  if (req.method === "GET") return json({ history: masked });
  if (req.method !== "POST" || parts[s === "basic" ? 1 : 2] !== "restore") return failure(404, "Not Found");
  let id: unknown;
  try {
    id = (JSON.parse(await req.body()) as { id?: unknown }).id;
  } catch {
    id = undefined;
  }
  const version = list.find((e) => e.id === id);
  if (!version) return failure(400, `No version ${JSON.stringify(id)} in the history of ${s}${name ? `.${name}` : ""}`);
  const edit = version.data === null
    ? { op: "delete" as const, section: s, name }
    : { op: "put" as const, section: s, name, value: version.data };
  return commit(edit, options(req));
}

function certificates(env: PluginEnv): Response {
  const out: Record<string, unknown> = {};
  for (const c of env.proxy?.certificates() ?? []) {
    const x = c.certificate;
    out[c.name] = {
      domains: x.domains,
      not_before: Math.floor(x.notBefore / 1000),
      not_after: Math.floor(x.notAfter / 1000),
      issuer: x.x509.issuer,
      acme: x.acme,
      is_default: x.isDefault,
      is_ca: x.isCa,
      origin: c.origin,
    };
  }
  return json(out);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `/aes`: Pingap's AES of a storage's secret values, for the UI's helper; 400 for a body or value it cannot use. */
async function aes(req: ApiRequest): Promise<Response> {
  let params: unknown;
  try {
    params = JSON.parse(await req.body());
  } catch (e) {
    return failure(400, `The body is not JSON: ${(e as Error).message}`);
  }
  const { category, key, data } = (params ?? {}) as Record<string, unknown>;
  if (typeof key !== "string" || typeof data !== "string") {
    return failure(400, 'The body must be {"category": "encrypt" or "decrypt", "key": "…", "data": "…"}');
  }
  try {
    return json({ value: category === "encrypt" ? aesEncrypt(key, data) : aesDecrypt(key, data) });
  } catch (e) {
    return failure(400, (e as Error).message);
  }
}

/** Answers one API request. */
export async function api(req: ApiRequest): Promise<Response> {
  const parts = req.route.split("/").slice(1).map(decode);
  const [head = "", ...rest] = parts;
  const m = req.method;
  if (head === "configs") {
    const category = rest[0] ?? "";
    const name = rest.slice(1).join("/");
    if (m === "GET" || m === "HEAD") return await getConfigs(category);
    if (m === "POST" && category === "import") {
      const read = await readConfig();
      if ("failed" in read) return read.failed;
      const imported = unmaskImport(await req.body(), read.tree);
      if ("missing" in imported) {
        return failure(400, `"${imported.missing}" is the secret placeholder, but there is no stored value to keep`);
      }
      return commit({ op: "import", text: imported.text }, options(req));
    }
    if (m === "POST" && rest.length === 3 && rest[2] === "rename" && CATEGORIES[category]) {
      return await rename(req, CATEGORIES[category]!, rest[1]!);
    }
    if (m === "POST") {
      if (rest.length < 2 && CATEGORIES[category]) return failure(400, "Url is invalid(no name)");
      return await putConfig(req, category, name);
    }
    if (m === "DELETE") {
      if (name === "" && CATEGORIES[category]) return failure(400, "Url is invalid(no name)");
      const s = section(category);
      if (!s) return invalidCategory(category);
      return commit({ op: "delete", section: s, name }, options(req));
    }
    return failure(405, "Method Not Allowed");
  }
  if (head === "config-history") return await history(req, rest);
  if (head === "basic" && rest.length === 0) return json({ ...await basicInfo(req.env), readonly: req.readonly });
  if (head === "status" && rest.length === 0) return json(await liveStatus(req.env, req.rates));
  if (head === "schema" && rest.length === 0) return json(renderJsonSchema());
  if (head === "certificates" && rest.length === 0) return certificates(req.env);
  if (head === "aes" && rest.length === 0) return m === "POST" ? await aes(req) : failure(405, "Method Not Allowed");
  if (head === "restart" && rest.length === 0 && m === "POST") {
    const context = adminContext();
    if (!context.reload) {
      return failure(400, "This admin has no reload to run (the proxy was not started by the command line)");
    }
    // Answered at once, as Pingap does: the reload waits for this very request to end before it is done.
    context.reload("admin restart").catch(() => {});
    return noContent();
  }
  return failure(404, "Not Found");
}
