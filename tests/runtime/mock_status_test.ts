/**
 * `mock`'s `status`: what `check` accepts is the status the client receives
 * (through the real proxy, read off the wire), and what the runtime could
 * not send (a 1xx, 600 or more) is a check error at the key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, formatPath } from "../../compiler/mod.ts";
import { rawExchange, startTestProxy } from "../_support/proxy.ts";

const ACCEPTED = [200, 201, 204, 299, 302, 404, 418, 503, 599];

function mockConfig(statuses: readonly number[]): string {
  let toml = `[servers.s]\naddr = "127.0.0.1:0"\nlocations = [${statuses.map((s) => `"l${s}"`).join(", ")}]\n`;
  for (const s of statuses) {
    toml += `\n[locations.l${s}]\npath = "/s${s}"\nplugins = ["m${s}"]\n`;
    toml += `\n[plugins.m${s}]\ncategory = "mock"\nstatus = ${s}\n${s === 204 ? "" : `data = "body ${s}"\n`}`;
  }
  return toml;
}

Deno.test("mock: every accepted status is the status on the wire", async () => {
  const proxy = await startTestProxy(mockConfig(ACCEPTED));
  try {
    for (const s of ACCEPTED) {
      const res = await rawExchange(proxy.port, `GET /s${s} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`);
      assert.ok(res, `${s}: an answer`);
      assert.equal(res.status, s, `status ${s}`);
      assert.equal(new TextDecoder().decode(res.body), s === 204 ? "" : `body ${s}`);
    }
  } finally {
    await proxy.close();
  }
});

Deno.test("mock: a status the runtime cannot send is a check error at its key, with a hint", () => {
  for (const s of [0, 100, 101, 103, 199, 600, 999, 1000]) {
    const { diagnostics } = compileSources([{ file: "m.toml", text: mockConfig([s]) }]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    assert.equal(errors.length, 1, `${s}: ${errors.map((d) => d.message).join("; ")}`);
    const [e] = errors;
    assert.equal(formatPath(e!.path), `plugins.m${s}.status`);
    assert.equal(e!.code, "out-of-range");
    assert.match(e!.hint ?? "", /200–599/);
    assert.ok(e!.line, "the error has a line");
  }
});

Deno.test("mock: data with a 204 or 304 is a warning at data (no body is sent)", () => {
  for (const s of [204, 304]) {
    const text = `[plugins.m]\ncategory = "mock"\nstatus = ${s}\ndata = "x"\n`;
    const { diagnostics } = compileSources([{ file: "m.toml", text }]);
    const warnings = diagnostics.filter((d) => formatPath(d.path) === "plugins.m.data");
    assert.equal(warnings.length, 1, `${s}`);
    assert.equal(warnings[0]!.severity, "warning");
  }
});
