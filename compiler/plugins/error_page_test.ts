/** `error_page` config errors: Pingap's messages, at the key path, with a hint. */
import assert from "node:assert/strict";
import { compileSources } from "../mod.ts";

function compile(plugin: string) {
  const text = `[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["p"]
[plugins.p]
category = "error_page"
${plugin}
`;
  return compileSources([{ file: "t.toml", text }]);
}

Deno.test("error_page: bad config is a check error naming the key", () => {
  const cases: [string, string, string][] = [
    ["", "", "there is nothing to answer with: set pages or json"],
    [
      "json = true\nintercept = true",
      ".intercept",
      "intercept takes the statuses of pages from the upstream: set pages",
    ],
    [
      'pages = ["302: moved"]',
      ".pages.0",
      'pages: "302: moved" should be status:page, the status one from 400 to 599, 4xx or 5xx',
    ],
    [
      'pages = ["6xx: x"]',
      ".pages.0",
      'pages: "6xx: x" should be status:page, the status one from 400 to 599, 4xx or 5xx',
    ],
    ['pages = ["502"]', ".pages.0", 'pages: "502" should be status:page, the status one from 400 to 599, 4xx or 5xx'],
    [
      'pages = ["502: "]',
      ".pages.0",
      'pages: "502: " should be status:page, the status one from 400 to 599, 4xx or 5xx',
    ],
    ['pages = ["5xx: a", "5XX: b"]', ".pages.1", "pages: there are two for 5xx"],
  ];
  for (const [conf, path, message] of cases) {
    const errors = compile(conf).diagnostics.filter((d) => d.severity === "error");
    assert.equal(errors.length, 1, `${conf}: ${JSON.stringify(errors)}`);
    const e = errors[0]!;
    assert.equal(e.message, message, conf);
    assert.equal(e.path.join("."), `plugins.p${path}`, conf);
    assert.ok(e.hint, `${conf} has a hint`);
  }
});

Deno.test("error_page: pages by kind, one status ahead of its class", () => {
  const { plan } = compile(
    String
      .raw`pages = ["5xx: /srv/down.json", "502: <h1>{{status}}</h1>", "404: {\"e\":1}", "403: {{message}}", "4xx: ./p.txt", "400: ../p.htm"]`,
  );
  const config = plan!.plugins.find((p) => p.name === "p")!.config as {
    pages: { status?: number; klass?: number; kind: string; file?: string }[];
  };
  assert.deepEqual(
    config.pages.map((p) => [p.status ?? `${p.klass}xx`, p.kind, p.file ?? "inline"]),
    [
      [502, "html", "inline"],
      [404, "json", "inline"],
      [403, "text", "inline"],
      [400, "html", "../p.htm"],
      ["5xx", "json", "/srv/down.json"],
      ["4xx", "text", "./p.txt"],
    ],
  );
});
