/**
 * The log pieces on their own: Pingap's human formats, timestamps, rolled
 * file names, the bounded queue (drops counted), rolling files on disk with
 * a moved clock, the application log's levels and JSON, and the drop
 * report of a file target.
 *
 * @module
 */
import assert from "node:assert/strict";
import { humanDuration, humanSize } from "./human.ts";
import { localIso } from "./when.ts";
import { rolledName } from "./rolling.ts";
import { LineWriter } from "./line_writer.ts";
import { dropReport, fileWriter, openAccessSink } from "./access_sink.ts";
import { appLog, configureAppLog, formatLine, parseLevel, setAppLogTarget } from "./app_log.ts";

Deno.test("humanSize() and humanDuration() follow Pingap's vectors", () => {
  for (const [n, s] of [[512, "512B"], [999, "999B"], [1000, "1KB"], [1024, "1KB"], [1124, "1.1KB"], [1999, "1.9KB"]]) {
    assert.equal(humanSize(n as number), s);
  }
  assert.equal(humanSize(1_220_000), "1.2MB");
  assert.equal(humanSize(3_000_000_000), "3GB");
  for (
    const [ms, s] of [[0, "0ms"], [512, "512ms"], [1000, "1s"], [1190, "1.1s"], [90_000, "1.5m"], [6_840_000, "1.9h"]]
  ) {
    assert.equal(humanDuration(ms as number), s);
  }
});

Deno.test("localIso() prints local time with milliseconds and the offset", () => {
  const t = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const s = localIso(t);
  assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.006[+-]\d\d:\d\d$/);
  // The printed wall time and offset denote the same instant.
  assert.equal(new Date(s).getTime(), t);
});

Deno.test("rolledName() names files like tracing-appender (UTC)", () => {
  const t = Date.UTC(2026, 10, 22, 4, 41, 30);
  assert.equal(rolledName("/l/a.log", "daily", t), "/l/a.log.2026-11-22");
  assert.equal(rolledName("/l/a.log", "hourly", t), "/l/a.log.2026-11-22-04");
  assert.equal(rolledName("/l/a.log", "minutely", t), "/l/a.log.2026-11-22-04-41");
  assert.equal(rolledName("/l/a.log", "never", t), "/l/a.log");
  assert.equal(rolledName("/l/", "daily", t), "/l/2026-11-22");
});

Deno.test("LineWriter: a burst past the capacity is dropped and counted; the rest is one write", async () => {
  const writes: string[] = [];
  const w = new LineWriter({
    write: (bytes) => {
      writes.push(new TextDecoder().decode(bytes));
      return Promise.resolve();
    },
    close() {},
  }, { capacity: 3 });
  let accepted = 0;
  for (let i = 0; i < 100; i++) if (w.write(`line ${i}`)) accepted++;
  assert.equal(accepted, 3);
  assert.equal(w.dropped, 97);
  await w.flush();
  assert.deepEqual(writes, ["line 0\nline 1\nline 2\n"]);
  // Once written, the queue takes lines again.
  assert.ok(w.write("later"));
  await w.close();
  assert.equal(writes.at(-1), "later\n");
});

Deno.test("fileWriter(): daily and hourly files roll over when the clock passes the period", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = Date.UTC(2026, 10, 22, 23, 59, 0);
    for (const rolling of ["daily", "hourly"] as const) {
      const path = `${dir}/${rolling}/access.log`;
      const w = fileWriter({ path, rolling, channelBuffer: 100, flushTimeout: 10_000 }, () => now);
      now = Date.UTC(2026, 10, 22, 23, 59, 0);
      w.write("a");
      await w.flush();
      now = Date.UTC(2026, 10, 23, 0, 0, 1);
      w.write("b");
      w.write("c");
      await w.close();
      const first = rolling === "daily" ? "2026-11-22" : "2026-11-22-23";
      const second = rolling === "daily" ? "2026-11-23" : "2026-11-23-00";
      assert.equal(await Deno.readTextFile(`${path}.${first}`), "a\n");
      assert.equal(await Deno.readTextFile(`${path}.${second}`), "b\nc\n");
    }
    // Within one hour, hourly keeps one file.
    now = Date.UTC(2026, 10, 23, 5, 1);
    const w = fileWriter({ path: `${dir}/h.log`, rolling: "hourly", channelBuffer: 10, flushTimeout: 0 }, () => now);
    w.write("x");
    await w.flush();
    now = Date.UTC(2026, 10, 23, 5, 59);
    w.write("y");
    await w.close();
    assert.equal(await Deno.readTextFile(`${dir}/h.log.2026-11-23-05`), "x\ny\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseLevel() reads tracing directives; formatLine() writes text and JSON", () => {
  assert.equal(parseLevel("warn"), "warn");
  assert.equal(parseLevel("pingap=debug,ERROR"), "error");
  assert.equal(parseLevel("pingap=debug"), "debug");
  assert.equal(parseLevel("nonsense"), "info");
  const t = Date.UTC(2026, 0, 1);
  assert.equal(formatLine("warn", "slow", { ms: 5 }, false, t), "2026-01-01T00:00:00.000Z  WARN slow ms=5");
  assert.deepEqual(JSON.parse(formatLine("info", 'a "q"', { ok: true }, true, t)), {
    timestamp: "2026-01-01T00:00:00.000Z",
    level: "INFO",
    message: 'a "q"',
    ok: true,
  });
});

/** Collects app-log lines while `fn` runs (it sees them as they come). */
async function captureAppLog(fn: (lines: readonly string[]) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  await setAppLogTarget({
    write(bytes) {
      lines.push(...new TextDecoder().decode(bytes).split("\n").filter((l) => l !== ""));
      return Promise.resolve();
    },
    close() {},
  });
  try {
    await fn(lines);
  } finally {
    await setAppLogTarget(undefined);
    configureAppLog({});
  }
  return lines;
}

Deno.test("app log: lines below the level are skipped; the level changes at once", async () => {
  const lines = await captureAppLog(async () => {
    configureAppLog({ log_level: "warn", log_format_json: true });
    appLog("info", "hidden");
    appLog("warn", "shown");
    configureAppLog({ log_level: "debug", log_format_json: false });
    appLog("debug", "now shown");
    await Promise.resolve();
  });
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.equal(JSON.parse(lines[0]!).message, "shown");
  assert.match(lines[1]!, /DEBUG now shown$/);
});

Deno.test("access sink: a full file queue drops lines, and a warning reports how many", async () => {
  const dir = await Deno.makeTempDir();
  const saved = dropReport.everyMs;
  dropReport.everyMs = 20;
  const report = /8 lines dropped \(queue full\), 8 since start/;
  try {
    const lines = await captureAppLog(async (seen) => {
      const sink = openAccessSink({ path: `${dir}/a.log`, rolling: "never", channelBuffer: 2, flushTimeout: 0 });
      const results = Array.from({ length: 10 }, (_, i) => sink.write(`l${i}`));
      assert.equal(results.filter((r) => !r).length, 8);
      for (let i = 0; i < 200 && !seen.some((l) => report.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
      await sink.release();
    });
    assert.equal(await Deno.readTextFile(`${dir}/a.log`), "l0\nl1\n");
    assert.ok(lines.some((l) => report.test(l)), lines.join("\n"));
  } finally {
    dropReport.everyMs = saved;
    await Deno.remove(dir, { recursive: true });
  }
});
