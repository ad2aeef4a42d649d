/**
 * `compiler/` does no I/O: `compiler/mod.ts` is imported by a process that
 * may not read, write, connect, read the environment, run programs, ask the
 * system or load native code, and compiles config texts given to it on
 * stdin with every function `check` uses for text input. What it prints
 * must equal what `check` gives in this (unsealed) process.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  checkSources,
  ConfigReadError,
  formatGithub,
  formatJson,
  formatText,
  readErrorResult,
  sourceFromBytes,
} from "../compiler/mod.ts";
import { checkConfig, readSources } from "../runtime/storage/mod.ts";
import type { SealedInput, SealedOutput } from "./_support/compile_sealed.ts";

const ROOT = new URL("../", import.meta.url);
const SEALED = new URL("_support/compile_sealed.ts", import.meta.url).pathname;
const DENY_ALL = ["--deny-read", "--deny-net", "--deny-env", "--deny-write", "--deny-run", "--deny-sys", "--deny-ffi"];

async function sealed(input: SealedInput, args: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...DENY_ALL, "--no-prompt", SEALED, ...args],
    cwd: ROOT.pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(input)));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function filesOf(path: string): Promise<SealedInput> {
  const files = [];
  for (const s of await readSources(path)) files.push({ file: s.file, bytes: [...await Deno.readFile(s.file)] });
  return { files };
}

Deno.test("the sealed process cannot read: a read there fails (the control)", async () => {
  const r = await sealed({ files: [] }, ["--probe-read"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /NotCapable|Requires read access/);
});

Deno.test("compiler/mod.ts compiles the bundled conf/ with every permission denied, as check does", async () => {
  const conf = new URL("conf/", ROOT).pathname;
  const r = await sealed(await filesOf(conf));
  assert.equal(r.stderr, "", "no permission was asked for");
  assert.equal(r.code, 0);
  const out = JSON.parse(r.stdout) as SealedOutput;
  const check = await checkConfig(conf);
  assert.equal(out.exitCode, check.exitCode);
  assert.equal(out.exitCode, 0);
  assert.ok(out.planHash, "a Plan came out");
  assert.equal(out.planHash, check.plan?.hash);
  assert.equal(out.json, formatJson(check.diagnostics));
  assert.equal(out.liveExitCode, 0);
  assert.equal(out.readError, "Cannot read config (a hint)");
});

function bytes(text: string, tail: number[] = []): number[] {
  return [...new TextEncoder().encode(text), ...tail];
}

Deno.test("compiler/mod.ts reports broken configs with every permission denied, as check does", async () => {
  const mistakes = 'addr = "0.0.0.0:99999"\nlocations = ["api"]\n\n[locations.api]\nupstrem = 1\n';
  const inputs: SealedInput[] = [
    { files: [{ file: "a.toml", bytes: bytes(`[servers.web]\n${mistakes}`) }] },
    {
      files: [{ file: "a.toml", bytes: bytes("[basic]\n") }, {
        file: "b.toml",
        bytes: bytes('name = "', [0xff, 0x22]),
      }],
    },
  ];
  const texts: string[] = [];
  for (const input of inputs) {
    const r = await sealed(input);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout) as SealedOutput;
    const here = checkSources(input.files.map((f) => sourceFromBytes(f.file, new Uint8Array(f.bytes))));
    assert.equal(out.exitCode, 1);
    assert.equal(out.liveExitCode, 1);
    assert.equal(out.planHash, undefined);
    assert.equal(out.text, formatText(here.diagnostics, { color: false }));
    assert.equal(out.json, formatJson(here.diagnostics));
    assert.equal(out.github, formatGithub(here.diagnostics));
    texts.push(out.text);
  }
  assert.match(texts[0]!, /a\.toml:2:\d+ .*error/);
  assert.match(texts[0]!, /a\.toml:6:\d+ .*upstrem/);
  assert.match(texts[1]!, /b\.toml:1:\d+ .*not UTF-8/);
  assert.equal(readErrorResult(new ConfigReadError("x")).exitCode, 2);
});

Deno.test("compiler/ names no Deno API and no fetch (the docs generator schema/generate.ts and tests aside)", async () => {
  const found: string[] = [];
  async function walk(dir: URL, rel: string): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (!e.name.endsWith(".ts") || e.name.endsWith("_test.ts") || `${rel}${e.name}` === "schema/generate.ts") {
        continue;
      } else {
        const text = await Deno.readTextFile(new URL(e.name, dir));
        for (const m of text.matchAll(/\bDeno\.\w+|\bfetch\(/g)) found.push(`compiler/${rel}${e.name}: ${m[0]}`);
      }
    }
  }
  await walk(new URL("compiler/", ROOT), "");
  assert.deepEqual(found, []);
});
