import assert from "node:assert/strict";
import { compileSources } from "./compile.ts";
import { diag, formatPath, shortenValues } from "./diagnostic.ts";
import { formatGithub, formatText } from "./format.ts";

const MB = 1024 * 1024;

/** Checks `text` and returns its diagnostics rendered as text, one per line. */
function check(text: string): { lines: string[]; paths: string[]; messages: string[] } {
  const { diagnostics } = compileSources([{ file: "big.toml", text }]);
  assert.ok(diagnostics.some((d) => d.severity === "error"), "the config fails");
  return {
    lines: formatText(diagnostics).split("\n"),
    paths: diagnostics.map((d) => formatPath(d.path)),
    messages: diagnostics.map((d) => d.message),
  };
}

Deno.test("a 1 MB bad value makes a short message that still names its key path", () => {
  const big = "x".repeat(MB);
  const cases: [string, string, RegExp][] = [
    [
      `[upstreams.u]\naddrs = ["127.0.0.1:1"]\nconnection_timeout = "${big}"\n`,
      "upstreams.u.connection_timeout",
      /x…"/,
    ],
    [
      `[upstreams.u]\naddrs = ["127.0.0.1:1"]\nconnection_timeout = "1${"0".repeat(MB)}s"\n`,
      "upstreams.u.connection_timeout",
      /0…"/,
    ],
    [`[upstreams.u]\naddrs = ["127.0.0.1:1"]\nalgo = "${big}"\n`, "upstreams.u.algo", /x…"/],
    [`[basic]\n${big} = 1\n`, `basic."${"x".repeat(80)}…" (${MB} bytes)`, /Unknown key "x+…" \(1048576 bytes\)/],
    [`[basic]\nname = [${`"${"y".repeat(100)}",`.repeat(MB / 100)}]\n`, "basic.name", /bytes in all\)/],
    [`[basic]\nthreads = "${"9".repeat(MB)}"\n`, "basic.threads", /\(Remove the quotes: 9+…\(1048576 bytes\)\)/],
  ];
  for (const [text, path, shown] of cases) {
    const { lines, paths, messages } = check(text);
    assert.ok(paths.includes(path), `${path} in ${paths.join(", ").slice(0, 300)}`);
    // One long value: a message of a few hundred characters; many short ones: at most 2,000 and a count.
    const most = shown.source.includes("bytes in all") ? 2100 : 300;
    for (const m of messages) assert.ok(m.length < most, `a message of ${m.length}: ${m.slice(0, 300)}`);
    for (const line of lines) assert.ok(line.length < 2 * most + 1000, `a line of ${line.length}`);
    const line = lines.find((l) => l.includes(path))!;
    assert.match(line, shown);
  }
});

Deno.test("shortenValues: the size is the value's UTF-8 bytes, and a cut never splits an escape or a pair", () => {
  const value = "é".repeat(100) + "\n" + "😀".repeat(100);
  const m = shortenValues(`Unknown value ${JSON.stringify(value)}`);
  assert.ok(m.endsWith(`…" (${new TextEncoder().encode(value).byteLength} bytes)`), m);
  const escapes = shortenValues(`Bad ${JSON.stringify("\u0001".repeat(100))}`);
  assert.match(escapes, /^Bad "(\\u0001)+…" \(100 bytes\)$/);
  const pairs = shortenValues(`Bad ${JSON.stringify("a" + "😀".repeat(100))}`);
  assert.doesNotMatch(pairs, /[\ud800-\udbff]…/);
  // Short values and messages are untouched.
  const short = `Unknown value ${JSON.stringify("y".repeat(80))} in a sentence long enough to be scanned`;
  assert.equal(shortenValues(short), short);
});

Deno.test("diag shortens message and hint; formatGithub and formatPath stay short", () => {
  const big = "z".repeat(MB);
  const d = diag("x", ["basic", big], `Bad ${JSON.stringify(big)}`, { hint: `Write [${JSON.stringify(big)}]` });
  assert.ok(d.message.length < 120 && (d.hint?.length ?? 0) < 120, `${d.message} / ${d.hint}`);
  assert.ok(formatPath(d.path).length < 120);
  assert.ok(formatGithub([d]).length < 500);
});
