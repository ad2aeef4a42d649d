/**
 * Config files of the proxy bench, generated into a temp dir: the origin
 * (nginx, 1 worker, static files), nginx as a proxy (1 worker, upstream
 * keepalive), HAProxy (1 thread, `http-reuse always`), our proxy (TOML for
 * `mod.ts start`) and a bare `Deno.serve` hello world.
 *
 * @module
 */

/** Response bodies the origin serves, by path. */
export const BODIES: Readonly<Record<string, number>> = { "/small": 18, "/64k": 64 * 1024, "/1m": 1024 * 1024 };

/** The text body of the gzip row (`text/plain`, words of English-like length), by path. */
export const TEXT_BODY = { path: "/64k.txt", size: 64 * 1024 };

/** The gzip level of the gzip row, the same for nginx (`gzip_comp_level`) and our `compression` plugin. */
export const GZIP_LEVEL = 6;

/** The path prefix under which the origin answers its files with `Cache-Control: max-age=3600` (the cache row). */
export const CACHED_PREFIX = "/cached";

/** What our proxy's config varies in. */
export interface OurConfig {
  readonly port: number;
  readonly originPort: number;
  /** Extra locations before the one that proxies (10,000-location row). */
  readonly extraLocations?: number;
  readonly threads?: number;
  /** Access-log file (combined format) and Prometheus metrics at `/metrics`. */
  readonly accessLogFile?: string;
  readonly metrics?: boolean;
  /** The proxied location also runs basic_auth (`bench:bench`), ip_restriction (allow 127.0.0.1) and limit. */
  readonly accessPlugins?: boolean;
  /**
   * The proxied location also compresses with gzip at {@linkcode GZIP_LEVEL} (`gzip`), or caches in memory
   * (`cache`): the rows against nginx `gzip on` and nginx `proxy_cache`.
   */
  readonly bodyPlugin?: "gzip" | "cache";
}

/** The plugin tables of {@linkcode OurConfig.bodyPlugin}. */
const BODY_PLUGINS = {
  gzip: `[plugins.gzip]
category = "compression"
gzip_level = ${GZIP_LEVEL}
`,
  cache: `[plugins.cache]
category = "cache"
`,
};

/** The `Authorization` field the access-plugin row sends (`bench:bench`). */
export const BENCH_AUTHORIZATION = "Authorization: Basic YmVuY2g6YmVuY2g=";

/** The access plugins of {@linkcode OurConfig.accessPlugins}: they let every bench request through. */
const ACCESS_PLUGINS = `[plugins.auth]
category = "basic_auth"
authorizations = ["YmVuY2g6YmVuY2g="]

[plugins.ips]
category = "ip_restriction"
type = "allow"
ip_list = ["127.0.0.1"]

[plugins.rate]
category = "limit"
tag = "ip"
max = 1000000000
interval = "1s"
`;

/**
 * Our proxy serving the origin's files itself with the `directory` plugin (default settings), on `port`: the static
 * row's counterpart of nginx serving them.
 */
export function ourStaticToml(port: number, root: string): string {
  return `[servers.static]
addr = "127.0.0.1:${port}"
locations = ["files"]

[locations.files]
path = "/"
plugins = ["files"]

[plugins.files]
category = "directory"
path = "${root}"
`;
}

function nginxCommon(dir: string, name: string, nofile: number): string {
  return `user root;
worker_processes 1;
worker_rlimit_nofile ${nofile};
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}_error.log warn;
events { worker_connections ${nofile - 500}; multi_accept on; }
`;
}

function nginxHttpCommon(dir: string, name: string): string {
  return `  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/${name}_body;
  proxy_temp_path ${dir}/${name}_proxy;
  fastcgi_temp_path ${dir}/${name}_fastcgi;
  uwsgi_temp_path ${dir}/${name}_uwsgi;
  scgi_temp_path ${dir}/${name}_scgi;
`;
}

/** The origin: nginx, 1 worker, static files under `www`, and `POST /post` answered after reading the body. */
export function originNginx(dir: string, port: number, nofile: number): string {
  return `${nginxCommon(dir, "origin", nofile)}http {
${nginxHttpCommon(dir, "origin")}  sendfile on;
  tcp_nopush on;
  open_file_cache max=100;
  default_type application/octet-stream;
  types { text/plain txt; }
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    root ${dir}/www;
    location = /post { client_max_body_size 1m; client_body_buffer_size 64k; return 200 "posted\\n"; }
    location ${CACHED_PREFIX}/ { alias ${dir}/www/; expires 1h; }
    location = /64k-chunked { alias ${dir}/www/64k; ssi on; ssi_types *; }
  }
}
`;
}

/**
 * What an nginx proxy does besides proxying: `gzip` compresses `text/plain` at {@linkcode GZIP_LEVEL}, `cache` keeps
 * answers with `proxy_cache` (files under the temp dir, a shared-memory key zone), as the gzip and cache rows need.
 */
export type NginxProxyVariant = "plain" | "gzip" | "cache";

function nginxVariant(dir: string, name: string, variant: NginxProxyVariant): { http: string; location: string } {
  if (variant === "gzip") {
    return {
      http: `  gzip on;\n  gzip_comp_level ${GZIP_LEVEL};\n  gzip_types text/plain;\n  gzip_min_length 256;\n`,
      location: "",
    };
  }
  if (variant === "cache") {
    return {
      http: `  proxy_cache_path ${dir}/${name}_cache levels=1:2 keys_zone=bench:10m max_size=1g inactive=1h ` +
        `use_temp_path=off;\n`,
      location:
        "      proxy_cache bench;\n      proxy_cache_valid 200 1h;\n      add_header X-Cache-Status $upstream_cache_status;\n",
    };
  }
  return { http: "", location: "" };
}

/** nginx as a reverse proxy: 1 worker, upstream keepalive; `h2cPort` serves h2c (prior knowledge). */
export function proxyNginx(
  dir: string,
  port: number,
  h2cPort: number,
  originPort: number,
  nofile: number,
  name = "nginx",
  variant: NginxProxyVariant = "plain",
): string {
  const extra = nginxVariant(dir, name, variant);
  return `${nginxCommon(dir, name, nofile)}http {
${
    nginxHttpCommon(dir, name)
  }${extra.http}  upstream origin { server 127.0.0.1:${originPort}; keepalive 256; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    listen 127.0.0.1:${h2cPort} http2;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_max_temp_file_size 0;
      client_max_body_size 1m;
      client_body_buffer_size 64k;
${extra.location}    }
  }
}
`;
}

/** HAProxy: 1 thread, keep-alive both sides, `http-reuse always`; `h2cPort` speaks h2c. */
export function haproxyConfig(port: number, h2cPort: number, originPort: number, nofile: number): string {
  return `global
  nbthread 1
  # Idle client connections need one fd each (server connections are shared): more than maxconn = nofile / 2.
  ulimit-n ${nofile}
  no strict-limits
  maxconn ${nofile - 2000}
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  bind 127.0.0.1:${h2cPort} proto h2
  maxconn ${nofile - 2000}
  default_backend be
backend be
  server origin 127.0.0.1:${originPort}
`;
}

/** Our proxy's TOML: `/ping` by the plugin, everything else to the origin. */
export function ourToml(c: OurConfig): string {
  const extra = c.extraLocations ?? 0;
  const names = ["ping"];
  const locs: string[] = [];
  for (let i = 0; i < extra; i++) {
    names.push(`l${i}`);
    locs.push(`[locations.l${i}]\npath = "/p${i}/"\nupstream = "origin"\n`);
  }
  names.push("origin");
  const server = [
    `addr = "127.0.0.1:${c.port}"`,
    `locations = ${JSON.stringify(names)}`,
    `threads = ${c.threads ?? 1}`,
    `enabled_h2 = true`,
    ...(c.accessLogFile ? [`access_log = ${JSON.stringify(`${c.accessLogFile} combined`)}`] : []),
    ...(c.metrics ? [`prometheus_metrics = "/metrics"`] : []),
  ];
  return `[basic]
name = "bench"
upstream_keepalive_pool_size = 256

[servers.bench]
${server.join("\n")}

[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]

${locs.join("\n")}
[locations.origin]
path = "/"
upstream = "origin"
client_max_body_size = "1mb"
${c.accessPlugins ? `plugins = ["auth", "ips", "rate"]\n\n${ACCESS_PLUGINS}` : ""}${
    c.bodyPlugin ? `plugins = ["${c.bodyPlugin}"]\n\n${BODY_PLUGINS[c.bodyPlugin]}` : ""
  }
[upstreams.origin]
addrs = ["127.0.0.1:${c.originPort}"]
`;
}

/** A bare `Deno.serve` hello world on `port` (the baseline of the `/ping` row). */
export function bareDenoServe(port: number): string {
  return `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, () => new Response("pong"));\n`;
}

/** Pingap's answer to `/ping`, as the ping plugin sends it (runtime/plugins/ping.ts), on the wire. */
const PONG_HTTP = "HTTP/1.1 200 OK\\r\\ncache-control: private, no-cache\\r\\n" +
  "content-type: text/plain;charset=UTF-8\\r\\ncontent-length: 4\\r\\n\\r\\npong";

/**
 * A floor of `/ping` through `Deno.serve`: the bare hello world plus the one field Pingap's answer must carry
 * (`cache-control`), which takes `Deno.serve` off its fast path for a string body without fields.
 */
export function pongDenoServe(port: number): string {
  return `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, () =>
  new Response("pong", { headers: [["cache-control", "private, no-cache"]] }));
`;
}

/**
 * A floor of `/ping` through a front end of our own: a `Deno.listen` loop that only reads until a head ends and
 * writes Pingap's answer as fixed bytes (keep-alive, no parsing, no routing). Nothing in JavaScript on Deno.listen can
 * answer faster.
 */
export function pongRawListen(port: number): string {
  return `const answer = new TextEncoder().encode("${PONG_HTTP}");
function headEnd(b, from, n) {
  for (let i = from + 3; i < n; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i;
  }
  return -1;
}
async function serve(conn) {
  conn.setNoDelay(true);
  const buf = new Uint8Array(16384);
  try {
    for (;;) {
      let n = 0;
      for (;;) {
        const r = await conn.read(n === 0 ? buf : buf.subarray(n));
        if (r === null) return;
        n += r;
        if (headEnd(buf, Math.max(0, n - r - 3), n) >= 0) break;
      }
      await conn.write(answer);
    }
  } catch { /* the client went away */ } finally {
    try { conn.close(); } catch { /* closed */ }
  }
}
for await (const conn of Deno.listen({ hostname: "127.0.0.1", port: ${port} })) serve(conn);
`;
}

/** Writes the origin's files under `dir/www`. */
export async function writeBodies(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/www`, { recursive: true });
  for (const [path, size] of Object.entries(BODIES)) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = 97 + (i % 26);
    if (path === "/small") bytes.set(new TextEncoder().encode("hello from origin\n"));
    await Deno.writeFile(`${dir}/www${path}`, bytes);
  }
  await Deno.writeTextFile(`${dir}/www${TEXT_BODY.path}`, wordsText(TEXT_BODY.size));
}

/**
 * `size` bytes of text from a fixed seed: words drawn from a vocabulary of 500 made-up words of 2 to 9 letters, 12 to a
 * line, so that it compresses about as prose does (neither a repeated pattern nor noise).
 */
function wordsText(size: number): string {
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const vocabulary = Array.from({ length: 500 }, () => {
    let w = "";
    for (let i = 2 + next(8); i > 0; i--) w += String.fromCharCode(97 + next(26));
    return w;
  });
  let out = "";
  let words = 0;
  while (out.length < size) out += vocabulary[next(500)] + (++words % 12 === 0 ? "\n" : " ");
  return out.slice(0, size);
}
