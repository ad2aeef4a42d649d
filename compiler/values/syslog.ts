/**
 * A `syslog://` log target (Pingap 0.16, access log and `--log`):
 * `syslog://[host[:port]][/socket][?format=3164|5424&process=NAME&facility=NAME&protocol=udp|tcp]`.
 * Without a host it is the local daemon's unix socket (`/dev/log`, or the
 * path given); with one, a remote server over UDP (default) or TCP, port
 * 514 unless given. A parameter that does not parse is an error; other
 * parameters are left to the log (`channel_buffer`, `flush_timeout`).
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";

/** Syslog facilities by name (`LOG_USER` or `user`, any case) → code. */
const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** A parsed `syslog://` target. */
export interface SyslogTarget {
  /** The text as written (what it is known by). */
  readonly spec: string;
  readonly format: "3164" | "5424";
  /** APP-NAME / TAG (`process`, default `pingap`). */
  readonly process: string;
  /** Facility code (`facility`, default user = 1). */
  readonly facility: number;
  /** Where messages go. */
  readonly transport:
    | { readonly kind: "udp" | "tcp"; readonly hostname: string; readonly port: number }
    /** The local daemon: the socket at `path` (`/dev/log` when none was written). */
    | { readonly kind: "unix"; readonly path: string };
}

const HINT = "e.g. syslog://10.0.0.1:514?format=5424&process=pingap&facility=LOG_LOCAL0&protocol=udp";

/**
 * Parses a `syslog://` target.
 *
 * @example Usage
 * ```ts
 * import { syslogTarget } from "./syslog.ts";
 * const r = syslogTarget("syslog://10.0.0.1?protocol=tcp");
 * if (!r.ok || r.value.transport.kind !== "tcp" || r.value.transport.port !== 514) throw new Error();
 * ```
 */
export function syslogTarget(spec: string): Parsed<SyslogTarget> {
  const q = spec.indexOf("?");
  const location = (q < 0 ? spec : spec.slice(0, q)).replace(/^syslog:\/\//, "");
  const params = new URLSearchParams(q < 0 ? "" : spec.slice(q + 1));
  const bad = (message: string): Parsed<SyslogTarget> => ({ ok: false, message, hint: HINT });
  const format = params.get("format") || "3164";
  if (format !== "3164" && format !== "5424") return bad(`syslog format ${format} is invalid, expected 3164 or 5424`);
  const process = params.get("process") || "pingap";
  if (!/^[\x21-\x7e]{1,48}$/.test(process)) {
    return bad(`syslog process "${process}" must be 1 to 48 visible characters`);
  }
  const facilityName = (params.get("facility") ?? "").toLowerCase().replace(/^log_/, "");
  const facility = facilityName === "" ? 1 : FACILITIES[facilityName];
  if (facility === undefined) return bad(`syslog facility ${params.get("facility")} is invalid`);
  const protocol = params.get("protocol") ?? "";
  const base = { spec, format, process, facility } as const;
  if (location === "" || location.startsWith("/")) {
    if (protocol !== "") return bad("syslog protocol only applies to a remote server");
    const path = location.length <= 1 ? "/dev/log" : location;
    return { ok: true, value: { ...base, transport: { kind: "unix", path } } };
  }
  if (protocol !== "" && protocol !== "udp" && protocol !== "tcp") {
    return bad(`syslog protocol ${protocol} is invalid, expected udp or tcp`);
  }
  const hostPort = location.replace(/\/+$/, "");
  const m = /^(?:\[([^\]]+)\]|([^:/\[\]]+))(?::(\d{1,5}))?$/.exec(hostPort);
  const port = m?.[3] === undefined ? 514 : Number(m[3]);
  if (!m || port < 1 || port > 65535) return bad(`syslog server "${hostPort}" is invalid, expected host or host:port`);
  return {
    ok: true,
    value: { ...base, transport: { kind: protocol === "tcp" ? "tcp" : "udp", hostname: m[1] ?? m[2]!, port } },
  };
}
