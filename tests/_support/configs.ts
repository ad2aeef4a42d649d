/**
 * Config texts shared by the reload tests.
 *
 * @module
 */

/**
 * One server on `ports` (127.0.0.1) proxying everything to `origin`, with
 * `X-Version: <version>` set on the upstream request, so a test can tell
 * which config served a request.
 */
export function versionedConfig(origin: string, version: string, ports: readonly number[]): string {
  return `
[servers.s]
addr = "${ports.map((p) => `127.0.0.1:${p}`).join(",")}"
locations = ["api"]

[locations.api]
path = "/"
upstream = "main"
proxy_set_headers = ["X-Version:${version}"]

[upstreams.main]
addrs = ["${origin}"]
`;
}
