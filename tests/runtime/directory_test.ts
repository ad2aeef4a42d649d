/**
 * The `directory` plugin through the real proxy on real sockets, with curl and raw TCP: files whole and streamed
 * (byte for byte), `Range`, `ETag`/`If-None-Match`, `Last-Modified`/`If-Modified-Since`, `Cache-Control`, `download`,
 * `charset`, index files and listings, and a traversal corpus of 40 targets against a root with symbolic links that
 * point out, none of which reads the file beside the root.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rawExchange, startTestProxy, type TestProxy } from "../_support/proxy.ts";

const SECRET = "TOP-SECRET-BESIDE-THE-ROOT";

interface Site {
  readonly dir: string;
  readonly root: string;
  readonly big: Uint8Array;
}

async function makeSite(): Promise<Site> {
  const dir = await Deno.makeTempDir({ prefix: "directory_test_" });
  const root = `${dir}/root`;
  await Deno.mkdir(`${root}/docs`, { recursive: true });
  await Deno.mkdir(`${root}/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/secret.txt`, SECRET);
  await Deno.writeTextFile(`${root}/index.html`, "<h1>home</h1>");
  await Deno.writeTextFile(`${root}/docs/index.html`, "<h1>docs</h1>");
  await Deno.writeTextFile(`${root}/a.txt`, "hello, files");
  await Deno.writeTextFile(`${root}/app.js`, "console.log(1)");
  await Deno.writeTextFile(`${root}/.hidden`, "dot");
  await Deno.writeTextFile(`${root}/sub/<b>&x.txt`, "odd name");
  const big = new Uint8Array(1024 * 1024 + 17);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, Math.min(i + 65536, big.length)));
  await Deno.writeFile(`${root}/big.bin`, big);
  await Deno.symlink(`${dir}/secret.txt`, `${root}/link`);
  await Deno.symlink(dir, `${root}/dirlink`);
  return { dir, root, big };
}

async function withSite(fn: (site: Site, proxy: TestProxy, strictPort: number) => Promise<void>): Promise<void> {
  const site = await makeSite();
  let proxy: TestProxy | undefined;
  const spare = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const strictPort = spare.addr.port;
  spare.close();
  try {
    proxy = await startTestProxy(`
[servers.files]
addr = "127.0.0.1:0"
locations = ["files"]

[servers.strict]
addr = "127.0.0.1:${strictPort}"
locations = ["strict"]

[locations.files]
path = "/"
plugins = ["static"]

[locations.strict]
path = "/"
plugins = ["noLinks"]

[plugins.static]
category = "directory"
path = "${site.root}"
chunk_size = "64kb"
max_age = "10m"
charset = "utf-8"
headers = ["X-Served-By:directory"]

[plugins.noLinks]
category = "directory"
path = "${site.root}"
follow_symlinks = false
autoindex = true
download = true
`);
    await fn(site, proxy, strictPort);
  } finally {
    await proxy?.close();
    await Deno.remove(site.dir, { recursive: true });
  }
}

interface Curl {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

/** `curl -sS -D - <args> <url>`: status, headers (lower-cased) and body. */
async function curl(url: string, ...args: string[]): Promise<Curl> {
  const headFile = await Deno.makeTempFile();
  try {
    const out = await new Deno.Command("curl", { args: ["-sS", "-D", headFile, ...args, url], stdout: "piped" })
      .output();
    assert.ok(out.success, `curl ${args.join(" ")} ${url}: ${new TextDecoder().decode(out.stderr)}`);
    const lines = (await Deno.readTextFile(headFile)).split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status, headers, body: out.stdout };
  } finally {
    await Deno.remove(headFile);
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("directory: files, index pages, types and cache headers as Pingap's", async () => {
  await withSite(async (_site, proxy) => {
    const a = await curl(`${proxy.url}/a.txt`);
    assert.equal(a.status, 200);
    assert.equal(text(a.body), "hello, files");
    assert.equal(a.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(a.headers["cache-control"], "public, max-age=600");
    assert.equal(a.headers["accept-ranges"], "bytes");
    assert.equal(a.headers["x-served-by"], "directory");
    assert.match(a.headers["etag"]!, /^W\/"c-[0-9a-f]+"$/);
    assert.ok(a.headers["last-modified"]);

    const js = await curl(`${proxy.url}/app.js`);
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");

    const home = await curl(`${proxy.url}/`);
    assert.equal(home.status, 200);
    assert.equal(text(home.body), "<h1>home</h1>");
    assert.equal(home.headers["cache-control"], "private, no-cache", "HTML is never given a max age");

    const docs = await curl(`${proxy.url}/docs/`);
    assert.equal(text(docs.body), "<h1>docs</h1>", "a directory's index file, not only the root's");
    const bare = await curl(`${proxy.url}/docs?x=1`);
    assert.equal(bare.status, 301);
    assert.equal(bare.headers["location"], "/docs/?x=1");

    const missing = await curl(`${proxy.url}/nope.txt`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["cache-control"], "private, no-store");
    const noIndex = await curl(`${proxy.url}/sub/`);
    assert.equal(noIndex.status, 404, "no index file and no autoindex");
  });
});

Deno.test("directory: a large file streams byte for byte with its length; ranges; 416", async () => {
  await withSite(async (site, proxy) => {
    const big = await curl(`${proxy.url}/big.bin`);
    assert.equal(big.status, 200);
    assert.equal(big.headers["content-length"], String(site.big.length));
    assert.equal(big.headers["content-type"], "application/octet-stream");
    assert.deepEqual(big.body, site.big);

    const part = await curl(`${proxy.url}/big.bin`, "-r", "100000-299999");
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes 100000-299999/${site.big.length}`);
    assert.deepEqual(part.body, site.big.subarray(100000, 300000));

    const tail = await curl(`${proxy.url}/big.bin`, "-r", "-10");
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.body, site.big.subarray(site.big.length - 10));

    const small = await curl(`${proxy.url}/a.txt`, "-r", "0-4");
    assert.equal(small.status, 206);
    assert.equal(text(small.body), "hello");

    const past = await curl(`${proxy.url}/a.txt`, "-r", "100-200");
    assert.equal(past.status, 416);
    assert.equal(past.headers["content-range"], "bytes */12");
  });
});

Deno.test("directory: If-None-Match and If-Modified-Since answer 304 without a body", async () => {
  await withSite(async (_site, proxy) => {
    const first = await curl(`${proxy.url}/a.txt`);
    const again = await curl(`${proxy.url}/a.txt`, "-H", `If-None-Match: ${first.headers["etag"]}`);
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers["etag"], first.headers["etag"]);
    const other = await curl(`${proxy.url}/a.txt`, "-H", 'If-None-Match: W/"0-0"');
    assert.equal(other.status, 200);
    const since = await curl(`${proxy.url}/a.txt`, "-H", `If-Modified-Since: ${first.headers["last-modified"]}`);
    assert.equal(since.status, 304);
    const old = await curl(`${proxy.url}/a.txt`, "-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT");
    assert.equal(old.status, 200);
  });
});

Deno.test("directory: autoindex lists without dotfiles, names escaped; download sets an attachment", async (t) => {
  await withSite(async (_site, _proxy, strictPort) => {
    const base = `http://127.0.0.1:${strictPort}`;
    await t.step("listing", async () => {
      const list = await curl(`${base}/`);
      assert.equal(list.status, 200);
      const html = text(list.body);
      assert.ok(html.includes('href="./a.txt"'));
      assert.ok(html.includes('href="./docs/"'));
      assert.ok(!html.includes(".hidden"), "dotfiles are left out");
      const sub = text((await curl(`${base}/sub/`)).body);
      assert.ok(sub.includes("&lt;b&gt;&amp;x.txt") && !sub.includes("<b>&x"), sub);
    });
    await t.step("download", async () => {
      const a = await curl(`${base}/a.txt`);
      assert.equal(a.headers["content-disposition"], 'attachment; filename="a.txt"');
    });
  });
});

/** 40 targets that try to leave the root, sent as raw bytes (curl and fetch would clean them up first). */
const TRAVERSALS = [
  "/../secret.txt",
  "/..%2fsecret.txt",
  "/%2e%2e/secret.txt",
  "/%2e%2e%2fsecret.txt",
  "/%252e%252e/secret.txt",
  "/..\\secret.txt",
  "/..%5csecret.txt",
  "/%5c..%5csecret.txt",
  "/a/../../secret.txt",
  "/./../secret.txt",
  "//../secret.txt",
  "/.%2e/secret.txt",
  "/%2e./secret.txt",
  "/..;/secret.txt",
  "/secret.txt%00.html",
  "/%00../secret.txt",
  "/..%00/secret.txt",
  "/%c0%ae%c0%ae/secret.txt",
  "/%c0%af../secret.txt",
  "/..%c0%afsecret.txt",
  "/%uff0e%uff0e/secret.txt",
  "/..%255csecret.txt",
  "/%2e%2e%5csecret.txt",
  "/....//secret.txt",
  "/.../secret.txt",
  "/link",
  "/link/",
  "/dirlink/secret.txt",
  "/dirlink/root/../secret.txt",
  "/sub/../../secret.txt",
  "/sub/%2e%2e/%2e%2e/secret.txt",
  "/..",
  "/../",
  "/%2e%2e",
  "http://127.0.0.1/../secret.txt",
  "/sub/..%2f..%2fsecret.txt",
  "/%2f..%2fsecret.txt",
  "/..%2f..%2f..%2f..%2fetc%2fpasswd",
  "/../../../../etc/passwd",
  "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
];

Deno.test("directory: 40 traversal targets, none reads outside the root (follow_symlinks = false)", async () => {
  assert.ok(TRAVERSALS.length >= 30);
  await withSite(async (_site, _proxy, strictPort) => {
    for (const target of TRAVERSALS) {
      const res = await rawExchange(strictPort, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.ok(res, `${target}: an answer`);
      const body = text(res.body);
      assert.ok(!body.includes(SECRET) && !body.includes("root:x:0:0"), `${target} read outside the root: ${body}`);
      assert.ok([301, 400, 403, 404].includes(res.status), `${target}: status ${res.status}`);
    }
  });
});

Deno.test("directory: follow_symlinks = true (the default) follows links, as Pingap's historical behaviour", async () => {
  await withSite(async (_site, proxy, strictPort) => {
    const followed = await curl(`${proxy.url}/link`);
    assert.equal(text(followed.body), SECRET, "the default follows a link the operator put in the root");
    const refused = await curl(`http://127.0.0.1:${strictPort}/link`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers["cache-control"], "private, no-store");
  });
});
