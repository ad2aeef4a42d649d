/**
 * `otlp_exporter`: the OTLP/HTTP endpoint that receives a server's spans,
 * with Pingap's URL parameters `timeout` (3s), `max_queue_size` (2048),
 * `scheduled_delay` (5s), `max_export_batch_size` (512) and
 * `max_export_timeout` (30s). Parsed once here: a URL that does not parse or
 * a parameter that is not a duration or a positive integer is an error at
 * the key, not a default the runtime falls back to. The path defaults to
 * `/v1/traces`; a value without a scheme is `http://`.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { parseBoundedDuration } from "../units.ts";

/** Export settings of an `otlp_exporter` value. */
export interface OtlpExporter {
  /** Where spans are POSTed (parameters removed). */
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxQueueSize: number;
  readonly scheduledDelayMs: number;
  readonly maxExportBatchSize: number;
  readonly exportTimeoutMs: number;
}

const DURATIONS = { timeout: 3000, scheduled_delay: 5000, max_export_timeout: 30_000 } as const;
const COUNTS = { max_queue_size: 2048, max_export_batch_size: 512 } as const;

/**
 * Parses an `otlp_exporter` value.
 *
 * @example Usage
 * ```ts
 * import { otlpExporter } from "./otlp_exporter.ts";
 * const s = otlpExporter("http://127.0.0.1:4318?scheduled_delay=1s");
 * if (!s.ok || s.value.url !== "http://127.0.0.1:4318/v1/traces" || s.value.scheduledDelayMs !== 1000) throw new Error();
 * if (otlpExporter("http://127.0.0.1:4318?max_queue_size=0").ok) throw new Error();
 * ```
 */
export function otlpExporter(text: string): Parsed<OtlpExporter> {
  const raw = text.trim();
  let u: URL;
  try {
    u = new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    return {
      ok: false,
      message: `OTLP endpoint ${JSON.stringify(raw)} does not parse`,
      hint: 'Write the collector\'s OTLP/HTTP URL, e.g. "http://127.0.0.1:4318"',
    };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return {
      ok: false,
      message: `OTLP endpoint ${JSON.stringify(raw)} is not http or https`,
      hint: "Spans are posted over OTLP/HTTP: use an http:// or https:// URL",
    };
  }
  const q = u.searchParams;
  const ms: Record<string, number> = {};
  for (const [name, fallback] of Object.entries(DURATIONS)) {
    const v = q.get(name);
    const d = v === null ? fallback : parseBoundedDuration(v);
    if (typeof d === "string") {
      return { ok: false, message: `Parameter ${name}: ${d}`, hint: `Write ${name}=<duration>, e.g. ${name}=30s` };
    }
    ms[name] = d;
  }
  const n: Record<string, number> = {};
  for (const [name, fallback] of Object.entries(COUNTS)) {
    const v = q.get(name);
    const c = v === null ? fallback : Number(v);
    if (!Number.isSafeInteger(c) || c <= 0) {
      return {
        ok: false,
        message: `Parameter ${name}: ${JSON.stringify(v)} is not a positive integer`,
        hint: `Write ${name}=<count>, e.g. ${name}=${fallback}`,
      };
    }
    n[name] = c;
  }
  u.search = "";
  if (u.pathname === "" || u.pathname === "/") u.pathname = "/v1/traces";
  return {
    ok: true,
    value: {
      url: u.toString(),
      timeoutMs: ms.timeout!,
      maxQueueSize: n.max_queue_size!,
      scheduledDelayMs: ms.scheduled_delay!,
      maxExportBatchSize: n.max_export_batch_size!,
      exportTimeoutMs: ms.max_export_timeout!,
    },
  };
}
