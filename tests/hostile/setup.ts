/**
 * The corpus's proxy config (the same for every group, one process per
 * group) and its nginx twin for `nginx_compare.ts`: one origin, a refused
 * upstream under `/refused/`, a WebSocket origin under `/ws/`, 1 s read
 * timeouts on both sides, and an h2c listener.
 *
 * @module
 */

/** Addresses the config points at. */
export interface Targets {
  /** The recording origin, `127.0.0.1:<port>`. */
  readonly origin: string;
  /** A port nothing listens on. */
  readonly refused: number;
  /** The WebSocket echo origin, `127.0.0.1:<port>`. */
  readonly ws: string;
  /** The plain HTTP/1.1 listener's port. */
  readonly port: number;
  /** The h2c (prior knowledge) listener's port. */
  readonly h2Port: number;
}

/** The proxy's TOML for the corpus. */
export function proxyConfig(t: Targets): string {
  return `
[upstreams.origin]
addrs = ["${t.origin}"]
connection_timeout = "1s"
read_timeout = "1s"
write_timeout = "1s"
idle_timeout = "1s"

[upstreams.refused]
addrs = ["127.0.0.1:${t.refused}"]
connection_timeout = "1s"

[upstreams.ws]
addrs = ["${t.ws}"]
read_timeout = "5s"

[locations.refused]
path = "/refused/"
upstream = "refused"

[locations.ws]
path = "/ws/"
upstream = "ws"

[locations.all]
upstream = "origin"

[servers.plain]
addr = "127.0.0.1:${t.port}"
locations = ["refused", "ws", "all"]
# nginx answers pipelined requests in order; so does this server (Pingap's default drops them).
h1_pipelining = true
downstream_read_timeout = "1s"
downstream_write_timeout = "1s"

[servers.h2c]
addr = "127.0.0.1:${t.h2Port}"
locations = ["all"]
enabled_h2 = true
downstream_read_timeout = "1s"
downstream_write_timeout = "1s"
`;
}

/** nginx 1.22's config doing the same as {@linkcode proxyConfig}'s plain server, under `dir`. */
export function nginxConfig(t: Targets, dir: string): string {
  return `
worker_processes 1;
error_log ${dir}/error.log info;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_header_timeout 1s;
  client_body_timeout 1s;
  send_timeout 1s;
  upstream origin { server ${t.origin}; keepalive 16; keepalive_timeout 1s; }
  server {
    listen 127.0.0.1:${t.port};
    location /refused/ { proxy_pass http://127.0.0.1:${t.refused}; proxy_connect_timeout 1s; }
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_connect_timeout 1s;
      proxy_read_timeout 1s;
      proxy_send_timeout 1s;
    }
  }
}
`;
}

/** A free port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Open file descriptors of a process (`/proc/<pid>/fd`). */
export function fdCount(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** Resident set size of a process in KiB (`VmRSS` in `/proc/<pid>/status`). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}
