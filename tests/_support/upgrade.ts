/**
 * The setup shared by the upgrade test and bench: a config with one proxied
 * location on a fixed port and its own pid file, and the start command.
 *
 * @module
 */

/** `deno` arguments that start the CLI on a config file (append the file). */
export { START_ARGS } from "./process.ts";

/** A config proxying everything on 127.0.0.1:`port` to `origin` (host:port). */
export function upgradeConfig(origin: string, port: number, pidFile: string, gracePeriod = "3s"): string {
  return `[basic]
pid_file = "${pidFile}"
grace_period = "${gracePeriod}"

[upstreams.o]
addrs = ["${origin}"]

[locations.o]
upstream = "o"

[servers.s]
addr = "127.0.0.1:${port}"
locations = ["o"]
`;
}
