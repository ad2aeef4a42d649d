import assert from "node:assert/strict";
import { applyEdit, readStored, writeChanges } from "./store.ts";

Deno.test("store: a directory keeps its layout: an item rewritten where it is, a new one in its own file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/servers.toml`, '[servers.web]\naddr = "127.0.0.1:1"\nlocations = ["a"]\n');
    await Deno.writeTextFile(`${dir}/locations.toml`, '[locations.a]\npath = "/"\n\n[locations.b]\npath = "/b"\n');
    const stored = await readStored(dir);
    assert.equal(stored.kind, "dir");
    const put = applyEdit(stored, { op: "put", section: "locations", name: "b", value: { path: "/c" } });
    assert.deepEqual(put.changes.map((c) => c.file), [`${dir}/locations.toml`]);
    await writeChanges(stored, put.changes);
    assert.match(await Deno.readTextFile(`${dir}/locations.toml`), /\[locations\.a\][\s\S]*path = "\/c"/);
    const add = applyEdit(await readStored(dir), { op: "put", section: "upstreams", name: "u", value: { addrs: [] } });
    assert.deepEqual(add.changes.map((c) => c.file), [`${dir}/upstreams/u.toml`]);
    await writeChanges(stored, add.changes);
    const del = applyEdit(await readStored(dir), { op: "delete", section: "upstreams", name: "u" });
    assert.deepEqual(del.changes.map((c) => [c.file, c.text]), [[`${dir}/upstreams/u.toml`, null]]);
    await writeChanges(stored, del.changes);
    await assert.rejects(Deno.stat(`${dir}/upstreams/u.toml`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a name that cannot be a file, and the delete of what is not there, are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/p.toml`, "[basic]\nname = 'x'\n");
    const stored = await readStored(`${dir}/p.toml`);
    assert.throws(() => applyEdit(stored, { op: "put", section: "upstreams", name: "../x", value: {} }), /invalid/);
    assert.throws(() => applyEdit(stored, { op: "delete", section: "upstreams", name: "x" }), /not in the stored/);
    assert.throws(() => applyEdit(stored, { op: "import", text: "" }), /empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a rename in a directory rewrites the item where it is and each file that names it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/servers.toml`, '[servers.web]\naddr = "127.0.0.1:1"\nlocations = ["a", "b"]\n');
    await Deno.writeTextFile(`${dir}/locations.toml`, '[locations.a]\npath = "/"\nupstream = "u"\n\n[locations.b]\n');
    await Deno.writeTextFile(`${dir}/upstreams.toml`, '[upstreams.u]\naddrs = ["127.0.0.1:2"]\n');
    const stored = await readStored(dir);
    const renamed = applyEdit(stored, { op: "rename", section: "locations", name: "a", to: "z" });
    assert.deepEqual(renamed.changes.map((c) => c.file).sort(), [`${dir}/locations.toml`, `${dir}/servers.toml`]);
    const locations = renamed.changes.find((c) => c.file.endsWith("locations.toml"))!.text!;
    assert.match(locations, /^\[locations\.z\][\s\S]*\[locations\.b\]/, "the item keeps its place");
    assert.match(renamed.changes.find((c) => c.file.endsWith("servers.toml"))!.text!, /locations = \[ "z", "b" \]/);
    const u = applyEdit(stored, { op: "rename", section: "upstreams", name: "u", to: "v" });
    assert.deepEqual(u.changes.map((c) => c.file).sort(), [`${dir}/locations.toml`, `${dir}/upstreams.toml`]);
    assert.throws(() => applyEdit(stored, { op: "rename", section: "locations", name: "a", to: "b" }), /exists/);
    assert.throws(() => applyEdit(stored, { op: "rename", section: "locations", name: "q", to: "r" }), /not in/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
