/**
 * A `syslog://` log target (compiler/values/syslog.ts): each line becomes
 * one message at severity info, formatted as Pingap's syslog crate does.
 *
 * - RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST PROCESS[PID]: MESSAGE` (local time).
 * - RFC 5424: `<PRI>1 TIMESTAMP HOST PROCESS PID 0 - MESSAGE` (UTC), message
 *   id 0 and no structured data, as Pingap sends.
 *
 * PRI is facility × 8 + 6. Transports as Pingap: UDP, one datagram a
 * message (node:dgram); TCP, newline framed (RFC 6587) with newlines inside
 * a message turned into spaces, connected on the first message, and after
 * a failure messages are dropped for 5 s before the next connect; the
 * local daemon's unix datagram socket (`Deno.listenDatagram`, which needs
 * `--unstable-net`, as `pingap start` runs). Failures reach the log
 * writer's error handler; the process goes on.
 *
 * @module
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import type { SyslogTarget } from "../../../compiler/mod.ts";
import type { LineTarget } from "./line_writer.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const RETRY_MS = 5000;
const pad = (n: number) => String(n).padStart(2, "0");

/** Who sends: the machine's name and this process's id. */
export interface SyslogSender {
  readonly hostname: string;
  readonly pid: number;
}

/**
 * One message of `target` for `line`.
 *
 * @example Usage
 * ```ts
 * import { formatSyslog } from "./syslog.ts";
 * const t = { spec: "", format: "5424", process: "pingap", facility: 1, transport: { kind: "unix", path: "" } } as const;
 * const m = formatSyslog(t, "GET / 200", new Date(0), { hostname: "h", pid: 7 });
 * if (m !== "<14>1 1970-01-01T00:00:00.000Z h pingap 7 0 - GET / 200") throw new Error(m);
 * ```
 */
export function formatSyslog(target: SyslogTarget, line: string, now: Date, sender: SyslogSender): string {
  const pri = target.facility * 8 + 6;
  if (target.format === "5424") {
    return `<${pri}>1 ${now.toISOString()} ${sender.hostname} ${target.process} ${sender.pid} 0 - ${line}`;
  }
  const stamp = `${MONTHS[now.getMonth()]} ${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${
    pad(now.getSeconds())
  }`;
  return `<${pri}>${stamp} ${sender.hostname} ${target.process}[${sender.pid}]: ${line}`;
}

function machineName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** Sends one formatted message. */
type Send = (message: string) => Promise<void>;

function udpSend(hostname: string, port: number): { send: Send; close(): void } {
  let socket: UdpSocket | undefined;
  return {
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        socket ??= createSocket(hostname.includes(":") ? "udp6" : "udp4");
        socket.send(message, port, hostname, (e) => e ? reject(e) : resolve());
      }),
    close: () => socket?.close(),
  };
}

function tcpSend(hostname: string, port: number): { send: Send; close(): void } {
  let conn: Deno.TcpConn | undefined;
  let retryAt = 0;
  const encoder = new TextEncoder();
  return {
    async send(message) {
      if (conn === undefined) {
        if (Date.now() < retryAt) return; // dropped while the server is down
        try {
          conn = await Deno.connect({ hostname, port });
        } catch (e) {
          retryAt = Date.now() + RETRY_MS;
          throw new Error(`syslog server ${hostname}:${port} is unreachable, dropping messages for 5s: ${e}`);
        }
      }
      const bytes = encoder.encode(`${message.replaceAll("\n", " ")}\n`);
      try {
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      } catch (e) {
        try {
          conn.close();
        } catch { /* already closed */ }
        conn = undefined;
        throw new Error(`syslog server ${hostname}:${port} write failed, reconnecting: ${e}`);
      }
    },
    close: () => {
      try {
        conn?.close();
      } catch { /* already closed */ }
    },
  };
}

type UnixDatagram = {
  send(p: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
};

function unixSend(path: string): { send: Send; close(): void } {
  let socket: UnixDatagram | undefined;
  let own: string | undefined;
  const encoder = new TextEncoder();
  return {
    async send(message) {
      if (socket === undefined) {
        const listen = (Deno as unknown as { listenDatagram?: (o: unknown) => UnixDatagram }).listenDatagram;
        if (!listen) throw new Error("the local syslog socket needs --unstable-net (unix datagrams)");
        own = await Deno.makeTempFile({ prefix: "pingap-syslog-", suffix: ".sock" });
        await Deno.remove(own);
        socket = listen({ transport: "unixpacket", path: own });
      }
      await socket.send(encoder.encode(message), { transport: "unixpacket", path });
    },
    close() {
      socket?.close();
      if (own) Deno.remove(own).catch(() => {});
    },
  };
}

/** A line target sending each line to `target` (the sender's name and pid may be given for tests). */
export function syslogLineTarget(target: SyslogTarget, sender?: SyslogSender): LineTarget {
  const who = sender ?? { hostname: machineName(), pid: Deno.pid };
  const t = target.transport;
  const transport = t.kind === "unix" ? unixSend(t.path) : (t.kind === "tcp" ? tcpSend : udpSend)(t.hostname, t.port);
  const decoder = new TextDecoder();
  return {
    async write(bytes, now) {
      const when = new Date(now);
      let failure: unknown;
      for (const line of decoder.decode(bytes).split("\n")) {
        const text = line.trimEnd();
        if (text === "") continue;
        try {
          await transport.send(formatSyslog(target, text, when, who));
        } catch (e) {
          failure ??= e;
        }
      }
      if (failure !== undefined) throw failure;
    },
    close: () => transport.close(),
  };
}
