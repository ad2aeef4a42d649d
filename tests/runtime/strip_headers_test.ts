/**
 * The upstream options `strip_hop_by_hop`, `strip_connection_nominated` and `reject_malformed_connection_nominations`
 * (Pingap 0.16, its Pingora's request policy), seen by a real origin that echoes the headers it got: each on (the
 * default) and off, on the path that sends the client's fields as they came and on those that copy them (a location
 * with `proxy_set_headers`, or with a plugin that writes a header), and the 400s to refused nominations.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { rawJson, rawRequest, startTestProxy } from "../_support/proxy.ts";

/** Upstream name → its options (all on unless said). */
const UPSTREAMS: Record<string, string> = {
  def: "",
  keephop: "strip_hop_by_hop = false",
  keepnom: "strip_connection_nominated = false",
  lenient: "reject_malformed_connection_nominations = false",
};

function config(origin: string): string {
  let text = `[servers.s]\naddr = "127.0.0.1:0"\nlocations = [${
    Object.keys(UPSTREAMS).flatMap((u) => paths(u).map((p) => `"${p}"`)).join(", ")
  }]\n\n[plugins.tag]\ncategory = "request_headers"\nadd_headers = ["X-P: 1"]\n`;
  for (const [name, options] of Object.entries(UPSTREAMS)) {
    text += `\n[upstreams.${name}]\naddrs = ["${origin}"]\n${options}\n`;
    text += `\n[locations.${name}]\npath = "/${name}/"\nupstream = "${name}"\n`;
    // A header op makes the proxy copy the client's headers once the upstream is chosen, before it sends them.
    text += `\n[locations.${name}_copy]\npath = "/${name}_copy/"\nupstream = "${name}"\n` +
      `proxy_set_headers = ["X-Set:yes"]\n`;
    // A plugin that writes a header makes the copy earlier, before the upstream is chosen.
    text += `\n[locations.${name}_plugin]\npath = "/${name}_plugin/"\nupstream = "${name}"\nplugins = ["tag"]\n`;
  }
  return text;
}

/** The locations of an upstream: the client's fields sent as they came, copied late, copied early. */
function paths(upstream: string): string[] {
  return [upstream, `${upstream}_copy`, `${upstream}_plugin`];
}

/** The hop-by-hop fields a client may send on a plain request, and whether each goes on with `strip_hop_by_hop = false`. */
const HOP: [string, string, boolean][] = [
  ["Keep-Alive", "timeout=5", true],
  ["Proxy-Connection", "keep-alive", true],
  ["Proxy-Authorization", "Basic dTpw", true],
  ["Proxy-Authenticate", "Basic", true],
  ["TE", "trailers", true],
  ["Trailer", "X-Checksum", true],
  ["HTTP2-Settings", "AAMAAABkAAQAAP__", false],
];

Deno.test("upstream header options: hop-by-hop fields, nominated fields and refused nominations", async (t) => {
  const origin = await startEchoOrigin("o");
  const proxy = await startTestProxy(config(origin.addr));
  /** The headers the origin got for a request to `/<location>/x` with `headers`; the proxy's status when not 200. */
  const send = async (location: string, headers: Record<string, string>): Promise<Echo["headers"] | number> => {
    const res = await rawRequest(proxy.port, "GET", `/${location}/x`, { Host: "example.test", ...headers });
    if (res.status !== 200) return res.status;
    return rawJson<Echo>(res).headers;
  };
  const both = paths;
  try {
    await t.step("strip_hop_by_hop: removed by default, as sent when off (but HTTP2-Settings)", async () => {
      const headers = Object.fromEntries(HOP.map(([n, v]) => [n, v]));
      for (const location of both("def")) {
        const got = await send(location, headers);
        assert.equal(typeof got, "object", `${location}: ${got}`);
        for (const [name] of HOP) {
          assert.equal((got as Echo["headers"])[name.toLowerCase()], undefined, `${location} ${name}`);
        }
      }
      for (const location of both("keephop")) {
        const got = await send(location, headers) as Echo["headers"];
        assert.equal(typeof got, "object", `${location}: ${got}`);
        for (const [name, value, kept] of HOP) {
          assert.equal(got[name.toLowerCase()], kept ? value : undefined, `${location} ${name}`);
        }
        // `Connection` and the client's framing never go on.
        assert.equal(got["connection"], undefined);
      }
    });

    await t.step("strip_connection_nominated: a named field is removed, kept when off", async () => {
      for (const location of [...both("def"), ...both("keephop"), ...both("lenient")]) {
        const got = await send(location, { Connection: "X-Trace", "X-Trace": "1", "X-Other": "2" });
        assert.equal(typeof got, "object", `${location}: ${got}`);
        assert.equal((got as Echo["headers"])["x-trace"], undefined, location);
        assert.equal((got as Echo["headers"])["x-other"], "2", location);
      }
      for (const location of both("keepnom")) {
        const got = await send(location, { Connection: "X-Trace", "X-Trace": "1" });
        assert.equal((got as Echo["headers"])["x-trace"], "1", location);
      }
      // `strip_hop_by_hop = false` with `Connection: keep-alive`: the named Keep-Alive goes too.
      for (const location of both("keephop")) {
        const got = await send(location, { Connection: "keep-alive", "Keep-Alive": "timeout=5" });
        assert.equal((got as Echo["headers"])["keep-alive"], undefined, location);
      }
    });

    await t.step("protected names, a tenth name: 400 while nominated fields are stripped", async () => {
      const refused = [
        "Host",
        "X-Forwarded-For",
        "x-forwarded-host",
        "X-Forwarded-Proto",
        ":authority",
        "a,b,c,d,e,f,g,h,i,j",
      ];
      for (const value of refused) {
        for (const location of [...both("def"), ...both("keephop"), ...both("lenient")]) {
          assert.equal(await send(location, { Connection: value }), 400, `${location} Connection: ${value}`);
        }
        // Off: nothing is judged; the named fields go on.
        for (const location of both("keepnom")) {
          const got = await send(location, { Connection: value });
          assert.equal(typeof got, "object", `${location} Connection: ${value}: ${got}`);
        }
      }
      // Pingora protects only these four names: another X-Forwarded-* is removed as any.
      for (const location of both("def")) {
        const got = await send(location, { Connection: "X-Forwarded-Port", "X-Forwarded-Port": "1" });
        assert.equal(typeof got, "object", `${location}: ${got}`);
        assert.equal((got as Echo["headers"])["x-forwarded-port"], undefined);
      }
      // Nine names are allowed (rawRequest adds `close`, the ninth here; the refused list's tenth).
      const got = await send("def", { Connection: "a,b,c,d,e,f,g,h" });
      assert.equal(typeof got, "object", `nine names: ${got}`);
    });

    await t.step(
      "reject_malformed_connection_nominations: 400 to a name that is no token, ignored when off",
      async () => {
        for (const value of ['"X-Trace"', "x/trace", "x@trace"]) {
          for (const location of [...both("def"), ...both("keephop")]) {
            assert.equal(await send(location, { Connection: value, "X-Trace": "1" }), 400, `${location} ${value}`);
          }
          for (const location of [...both("lenient"), ...both("keepnom")]) {
            const got = await send(location, { Connection: `${value}, X-Other`, "X-Trace": "1", "X-Other": "2" });
            assert.equal(typeof got, "object", `${location} ${value}: ${got}`);
            // The malformed token names nothing; the valid one is still removed (unless nothing is).
            assert.equal((got as Echo["headers"])["x-trace"], "1", `${location} ${value}`);
            assert.equal((got as Echo["headers"])["x-other"], location.startsWith("keepnom") ? "2" : undefined);
          }
        }
      },
    );
  } finally {
    await proxy.close();
    await origin.close();
  }
});
