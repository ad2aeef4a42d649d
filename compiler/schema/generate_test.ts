import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { PLUGINS } from "../plugins/mod.ts";
import { OUTPUTS, pluginSchema, renderConfigReference, renderJsonSchema, renderJsonSchemaText } from "./generate.ts";
import { PLUGIN_COMMON_FIELDS } from "./common.ts";
import { SECTIONS } from "./mod.ts";
import type { Fields, JsonSchema } from "./types.ts";

const ROOT = new URL("../../", import.meta.url);
const REFERENCE = new URL(OUTPUTS.reference, ROOT);
const SCHEMA = new URL(OUTPUTS.jsonSchema, ROOT);
const TAPLO = fileURLToPath(new URL("node_modules/.bin/taplo", ROOT));
const BUNDLED_CONFIG = new URL("conf/pingap.toml", ROOT);
const EXAMPLES = new URL("../shared/pingap-examples/", ROOT);

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("docs/config.md and docs/pingap.schema.json are up to date", async () => {
  const reference = await Deno.readTextFile(REFERENCE).catch(() => "");
  const schema = await Deno.readTextFile(SCHEMA).catch(() => "");
  assert.ok(reference === renderConfigReference(), `${OUTPUTS.reference} is stale: run \`deno task schema\``);
  assert.ok(schema === renderJsonSchemaText(), `${OUTPUTS.jsonSchema} is stale: run \`deno task schema\``);
});

Deno.test("docs/config.md is as `deno fmt` writes it", async () => {
  // Otherwise a project-wide `deno fmt` would rewrite the generated file and make it stale.
  const rendered = renderConfigReference();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    cwd: fileURLToPath(ROOT),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(rendered));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const formatted = new TextDecoder().decode(stdout);
  if (formatted !== rendered) {
    const a = rendered.split("\n"), b = formatted.split("\n");
    const at = a.findIndex((line, i) => line !== b[i]);
    assert.fail(`deno fmt changes line ${at + 1}:\n- ${a[at]}\n+ ${b[at]}`);
  }
});

Deno.test("generated files are deterministic", () => {
  assert.equal(renderConfigReference(), renderConfigReference());
  assert.equal(renderJsonSchemaText(), renderJsonSchemaText());
  assert.deepEqual(JSON.parse(renderJsonSchemaText()), renderJsonSchema());
});

function emptyDocs(fields: Fields, where: string): string[] {
  return Object.entries(fields).filter(([, f]) => f.doc.trim() === "").map(([name]) => `${where}.${name}`);
}

/** Every `properties` entry anywhere in a JSON Schema without a description. */
function undescribed(json: unknown, at: string, out: string[] = []): string[] {
  if (Array.isArray(json)) json.forEach((v, i) => undescribed(v, `${at}[${i}]`, out));
  else if (typeof json === "object" && json !== null) {
    const o = json as JsonSchema;
    const props = o.properties as Record<string, JsonSchema> | undefined;
    if (props && typeof props === "object") {
      for (const [k, p] of Object.entries(props)) {
        if (typeof p.description !== "string" || p.description.trim() === "") out.push(`${at}.${k}`);
      }
    }
    // `if` subschemas only select a branch (`category` const); they describe nothing.
    for (const [k, v] of Object.entries(o)) if (k !== "if") undescribed(v, `${at}/${k}`, out);
  }
  return out;
}

Deno.test("every key of every section and plugin has a doc", () => {
  const missing: string[] = [];
  for (const s of SECTIONS) {
    if (s.schema.doc.trim() === "") missing.push(s.key);
    missing.push(...emptyDocs(s.schema.fields, s.key));
  }
  missing.push(...emptyDocs(PLUGIN_COMMON_FIELDS, "plugins.<common>"));
  for (const def of PLUGINS.values()) {
    if (def.doc.trim() === "") missing.push(`plugins.${def.category}`);
    missing.push(...emptyDocs(def.fields, `plugins.${def.category}`));
    missing.push(...emptyDocs(pluginSchema(def).fields, `plugins.${def.category}`));
  }
  // Nested tables (e.g. combined_auth's authorizations) are reached through the JSON Schema.
  missing.push(...undescribed(renderJsonSchema(), "#"));
  assert.deepEqual([...new Set(missing)], [], `keys without doc: ${missing.join(", ")}`);
});

interface TaploResult {
  readonly ok: boolean;
  /** Files taplo reported as invalid. */
  readonly invalid: readonly string[];
  readonly output: string;
}

/** Runs `taplo check` with our schema on `files` (offline: the schema is a file URL). */
async function taplo(files: readonly string[], cwd: string): Promise<TaploResult> {
  try {
    await Deno.stat(TAPLO);
  } catch {
    assert.fail(`${TAPLO} is missing: run \`npm install\` in the project root`);
  }
  const { code, stdout, stderr } = await new Deno.Command(TAPLO, {
    args: ["check", "--no-auto-config", "--colors", "never", "--schema", SCHEMA.href, ...files],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_LOG: "info" },
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  const invalid = [...output.matchAll(/invalid file .*path="([^"]+)"/g)].map((m) => m[1]!);
  return { ok: code === 0, invalid, output };
}

const SAMPLE = `[basic]
name = "sample"

[servers.web]
addr = "127.0.0.1:6188"
locations = ["api"]

[locations.api]
upstream = "backend"
path = "/api"
plugins = ["apiLimit", "pingap:stats"]

[upstreams.backend]
addrs = ["127.0.0.1:5000", "127.0.0.1:5001 10"]
connection_timeout = "3s"

[plugins.apiLimit]
category = "limit"
step = "request"
max = 100
interval = "1m"
`;

Deno.test("taplo accepts the bundled config (or a sample) with the JSON Schema", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pingap-schema-" });
  try {
    const files = [`${dir}/sample.toml`];
    await Deno.writeTextFile(files[0]!, SAMPLE);
    if (await exists(BUNDLED_CONFIG)) files.push(fileURLToPath(BUNDLED_CONFIG));
    const r = await taplo(files, dir);
    assert.ok(r.ok, `taplo rejected ${r.invalid.join(", ")}:\n${r.output}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("taplo rejects unknown keys, wrong plugin keys and steps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pingap-schema-" });
  try {
    const bad: Record<string, string> = {
      "unknown_key.toml": '[upstreams.a]\naddrs = ["127.0.0.1:80"]\nadrs = 1\n',
      "unknown_section.toml": '[servers2.a]\naddr = "0.0.0.0:80"\n',
      "plugin_key.toml": '[plugins.a]\ncategory = "limit"\nmaxx = 1\n',
      "plugin_step.toml": '[plugins.a]\ncategory = "limit"\nstep = "response"\n',
      "plugin_category.toml": '[plugins.a]\ncategory = "limitt"\n',
      "duration_int.toml": '[upstreams.a]\naddrs = ["127.0.0.1:80"]\nconnection_timeout = 10\n',
      "missing_required.toml": '[servers.a]\nlocations = ["x"]\n',
    };
    for (const [name, text] of Object.entries(bad)) await Deno.writeTextFile(`${dir}/${name}`, text);
    const r = await taplo(Object.keys(bad), dir);
    assert.ok(!r.ok, "taplo accepted invalid files");
    const accepted = Object.keys(bad).filter((n) => !r.invalid.some((p) => p.endsWith(`/${n}`)));
    assert.deepEqual(accepted, [], `taplo accepted: ${accepted.join(", ")}\n${r.output}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("taplo accepts old key names and items completed by includes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pingap-schema-" });
  try {
    await Deno.writeTextFile(
      `${dir}/ok.toml`,
      '[plugins.s]\ncategory = "stats"\nvalue = "/stats"\n\n[servers.a]\nincludes = ["common"]\ntcp_fast_open = 10\n',
    );
    const r = await taplo(["ok.toml"], dir);
    assert.ok(r.ok, r.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function tomlFiles(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) out.push(...await tomlFiles(url));
    else if (e.isFile && e.name.endsWith(".toml")) out.push(fileURLToPath(url));
  }
  return out.sort();
}

Deno.test({
  name: "taplo accepts Pingap's own example configs",
  ignore: !(await exists(EXAMPLES)),
  async fn() {
    const files = await tomlFiles(EXAMPLES);
    assert.ok(files.length > 0, "no .toml files under pingap-examples");
    const r = await taplo(files, fileURLToPath(EXAMPLES));
    assert.deepEqual(r.invalid, [], `taplo rejected:\n${r.output}`);
    assert.ok(r.ok, r.output);
  },
});
