/**
 * Compression of old rolled log files with real files in a temporary
 * directory: which files are compressed (and that the bytes come back),
 * the file being written left alone, a file that cannot be compressed
 * logged and skipped, and a reload's new keys applied by the running task.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { compileSources, type Plan } from "../../../compiler/mod.ts";
import { compressOldLogs, type CompressSettings, isRolled, LogCompressor } from "./compress.ts";
import { flushAppLog, setAppLogTarget } from "./app_log.ts";
import { rolledName } from "./rolling.ts";

const DAY = 86_400_000;
const enc = new TextEncoder();

/** Writes `name` in `dir` with some lines, modified `age` ms before `now`. */
async function put(dir: string, name: string, now: number, age: number): Promise<Uint8Array> {
  const bytes = enc.encode(`${name} `.repeat(500) + "\n");
  await Deno.writeFile(`${dir}/${name}`, bytes);
  const t = new Date(now - age);
  await Deno.utime(`${dir}/${name}`, t, t);
  return bytes;
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/** Captures the application log's lines while `f` runs. */
async function captureLog<T>(f: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const dec = new TextDecoder();
  await setAppLogTarget({
    write: (b) => Promise.resolve(void lines.push(...dec.decode(b).trim().split("\n"))),
    close() {},
  });
  try {
    const result = await f();
    await flushAppLog();
    return { result, lines };
  } finally {
    await setAppLogTarget(undefined);
  }
}

function plan(dir: string, basic: string): Plan {
  const text = `[basic]
${basic}

[servers.web]
addr = "127.0.0.1:0"
locations = ["l"]
access_log = "${dir}/access.log?rolling=daily tiny"

[locations.l]
path = "/"
upstream = "u"

[upstreams.u]
addrs = ["127.0.0.1:9"]
`;
  const r = compileSources([{ file: "a.toml", text }]);
  assert.ok(r.plan, JSON.stringify(r.diagnostics));
  return r.plan;
}

Deno.test("isRolled() takes the names the rolling gives, and no other", () => {
  for (const n of ["a.log.2026-10-05", "a.log.2026-10-05-13", "a.log.2026-10-05-13-45"]) {
    assert.ok(isRolled("a.log", n));
  }
  for (
    const n of [
      "a.log",
      "a.log.2026-10-05.gz",
      "a.log.2026-10-05.zst",
      "b.log.2026-10-05",
      "a.log.bak",
      "a.logx.2026-10-05",
    ]
  ) assert.ok(!isRolled("a.log", n), n);
  assert.ok(isRolled("", "2026-10-05") && !isRolled("", "a.log.2026-10-05"));
});

Deno.test("rolled files older than days_ago are compressed (gzip and zstd) and decompress to the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.UTC(2026, 11, 7, 12);
    const oldA = await put(dir, "access.log.2026-11-20", now, 10 * DAY);
    const oldB = await put(dir, "access.log.2026-11-29", now, 8 * DAY);
    await put(dir, "access.log.2026-12-03", now, 4 * DAY); // younger than 7 days
    await put(dir, "access.log.2026-11-01.gz", now, 30 * DAY); // already compressed
    await put(dir, "other.log.2026-11-01", now, 30 * DAY); // another log's file
    const logs = [{ path: `${dir}/access.log`, rolling: "daily" as const }];
    const gzip: CompressSettings = { algorithm: "gzip", level: 0, daysAgo: 0, hour: 0 };
    const r = await compressOldLogs(logs, gzip, now);
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.compressed.sort(), [`${dir}/access.log.2026-11-20`, `${dir}/access.log.2026-11-29`]);
    assert.deepEqual(await names(dir), [
      "access.log.2026-11-01.gz",
      "access.log.2026-11-20.gz",
      "access.log.2026-11-29.gz",
      "access.log.2026-12-03",
      "other.log.2026-11-01",
    ]);
    assert.deepEqual(new Uint8Array(gunzipSync(await Deno.readFile(`${dir}/access.log.2026-11-20.gz`))), oldA);
    assert.deepEqual(new Uint8Array(gunzipSync(await Deno.readFile(`${dir}/access.log.2026-11-29.gz`))), oldB);

    // days_ago = 3 with zstd (level 19) takes the 4-day-old file.
    const young = await Deno.readFile(`${dir}/access.log.2026-12-03`);
    const zstd: CompressSettings = { algorithm: "zstd", level: 19, daysAgo: 3, hour: 0 };
    const z = await compressOldLogs(logs, zstd, now);
    assert.deepEqual(z.compressed, [`${dir}/access.log.2026-12-03`]);
    assert.deepEqual(
      new Uint8Array(zstdDecompressSync(await Deno.readFile(`${dir}/access.log.2026-12-03.zst`))),
      young,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the file being written is never compressed, however old; a directory target's date-named files are", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.UTC(2026, 11, 7, 12, 30);
    const current = rolledName(`${dir}/app.log`, "hourly", now).slice(dir.length + 1);
    await put(dir, current, now, 30 * DAY);
    await put(dir, "app.log.2026-11-01-03", now, 30 * DAY);
    await Deno.mkdir(`${dir}/d`);
    const today = rolledName(`${dir}/d/`, "daily", now).slice(dir.length + 3);
    await put(`${dir}/d`, today, now, 30 * DAY);
    await put(`${dir}/d`, "2026-11-01", now, 30 * DAY);
    const r = await compressOldLogs(
      [
        { path: `${dir}/app.log`, rolling: "hourly" },
        { path: `${dir}/d/`, rolling: "daily" },
      ],
      { algorithm: "gzip", level: 1, daysAgo: 1, hour: 0 },
      now,
    );
    assert.deepEqual(r.compressed.sort(), [`${dir}/app.log.2026-11-01-03`, `${dir}/d/2026-11-01`]);
    assert.deepEqual(await names(dir), ["app.log.2026-11-01-03.gz", current, "d"].sort());
    assert.deepEqual(await names(`${dir}/d`), ["2026-11-01.gz", today].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file that cannot be compressed is logged and skipped; the others are compressed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.UTC(2026, 11, 7, 12);
    const blocked = await put(dir, "access.log.2026-11-01", now, 30 * DAY);
    await Deno.writeTextFile(`${dir}/access.log.2026-11-01.gz`, "not ours"); // the output exists
    await put(dir, "access.log.2026-11-02", now, 30 * DAY);
    const { result, lines } = await captureLog(() =>
      compressOldLogs([{ path: `${dir}/access.log`, rolling: "daily" }], {
        algorithm: "gzip",
        level: 0,
        daysAgo: 0,
        hour: 0,
      }, now)
    );
    assert.deepEqual(result.failed, [`${dir}/access.log.2026-11-01`]);
    assert.deepEqual(result.compressed, [`${dir}/access.log.2026-11-02`]);
    assert.deepEqual(await Deno.readFile(`${dir}/access.log.2026-11-01`), blocked);
    assert.equal(await Deno.readTextFile(`${dir}/access.log.2026-11-01.gz`), "not ours");
    const fail = lines.find((l) => l.includes("compress log fail"));
    assert.ok(fail, lines.join("\n"));
    assert.ok(fail.includes("ERROR") && fail.includes(`file=${dir}/access.log.2026-11-01`), fail);
    assert.ok(lines.some((l) => l.includes("compress log success") && l.includes("access.log.2026-11-02")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogCompressor runs once in the configured local hour and takes a reload's new keys", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const at = (h: number) => new Date(2026, 11, 7, h, 10).getTime();
    let now = at(3);
    const c = new LogCompressor(
      plan(dir, `log_compress_algorithm = "gzip"\nlog_compress_time_point_hour = 4`),
      undefined,
      () => now,
    );
    await put(dir, "access.log.2026-11-01", now, 30 * DAY);
    await put(dir, "access.log.2026-11-28", now, 5 * DAY);
    assert.equal(await c.tick(), undefined, "not in the hour");
    now = at(4);
    assert.deepEqual((await c.tick())?.compressed, [`${dir}/access.log.2026-11-01`]);
    assert.equal(await c.tick(), undefined, "once a day");

    // Reload: zstd, 2 days, hour 5; the new keys apply at the next tick in hour 5.
    c.update(plan(dir, `log_compress_algorithm = "zstd"\nlog_compress_days_ago = 2\nlog_compress_time_point_hour = 5`));
    assert.equal(await c.tick(), undefined);
    now = at(5);
    assert.deepEqual((await c.tick())?.compressed, [`${dir}/access.log.2026-11-28`]);
    assert.deepEqual(await names(dir), ["access.log.2026-11-01.gz", "access.log.2026-11-28.zst"]);

    // Reload without the algorithm: off.
    c.update(plan(dir, ""));
    await put(dir, "access.log.2026-11-02", now, 30 * DAY);
    now = at(5) + DAY;
    assert.equal(await c.tick(), undefined);
    assert.ok((await names(dir)).includes("access.log.2026-11-02"));
    await c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a part file left by a run cut short is overwritten; no part file stays", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.UTC(2026, 11, 7, 12);
    const bytes = await put(dir, "access.log.2026-11-01", now, 30 * DAY);
    await Deno.writeTextFile(`${dir}/access.log.2026-11-01.gz.part`, "half a gzip");
    const r = await compressOldLogs([{ path: `${dir}/access.log`, rolling: "daily" }], {
      algorithm: "gzip",
      level: 0,
      daysAgo: 0,
      hour: 0,
    }, now);
    assert.deepEqual(r.compressed, [`${dir}/access.log.2026-11-01`]);
    assert.deepEqual(await names(dir), ["access.log.2026-11-01.gz"]);
    assert.deepEqual(new Uint8Array(gunzipSync(await Deno.readFile(`${dir}/access.log.2026-11-01.gz`))), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
