/**
 * One OTLP/HTTP trace pipeline per `otlp_exporter` URL: the OTel SDK's
 * tracer provider with a batch span processor and the OTLP/HTTP (JSON)
 * exporter, all from npm. Pingap's URL parameters are read here:
 * `timeout` (3s), `max_queue_size` (2048), `scheduled_delay` (5s),
 * `max_export_batch_size` (512), `max_export_timeout` (30s); the path
 * defaults to `/v1/traces`.
 *
 * @module
 */
import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { parseDuration } from "../../../compiler/mod.ts";
import { VERSION } from "../../proxy/errors.ts";

/** Export settings read from an `otlp_exporter` value. */
export interface ExporterSettings {
  /** Where spans are POSTed. */
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxQueueSize: number;
  readonly scheduledDelayMs: number;
  readonly maxExportBatchSize: number;
  readonly exportTimeoutMs: number;
}

function ms(v: string | null, fallback: number): number {
  if (v === null) return fallback;
  const d = parseDuration(v);
  return typeof d === "number" ? d : fallback;
}

function int(v: string | null, fallback: number): number {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Reads an `otlp_exporter` value: `http://host:4318` posts to
 * `http://host:4318/v1/traces`; a URL with a path keeps it.
 *
 * @example Usage
 * ```ts
 * import { exporterSettings } from "./exporter.ts";
 * const s = exporterSettings("http://127.0.0.1:4318?scheduled_delay=1s");
 * if (s.url !== "http://127.0.0.1:4318/v1/traces" || s.scheduledDelayMs !== 1000) throw new Error();
 * ```
 */
export function exporterSettings(value: string): ExporterSettings {
  const u = new URL(value.includes("://") ? value : `http://${value}`);
  const q = u.searchParams;
  const settings = {
    timeoutMs: ms(q.get("timeout"), 3000),
    maxQueueSize: int(q.get("max_queue_size"), 2048),
    scheduledDelayMs: ms(q.get("scheduled_delay"), 5000),
    maxExportBatchSize: int(q.get("max_export_batch_size"), 512),
    exportTimeoutMs: ms(q.get("max_export_timeout"), 30_000),
  };
  u.search = "";
  if (u.pathname === "" || u.pathname === "/") u.pathname = "/v1/traces";
  return { url: u.toString(), ...settings };
}

/** A running trace pipeline. */
export interface TracePipeline {
  readonly tracer: Tracer;
  /** Exports what is queued, then stops. */
  shutdown(): Promise<void>;
}

/** Starts the SDK pipeline for `server`. */
export function startTracePipeline(server: string, s: ExporterSettings): TracePipeline {
  const exporter = new OTLPTraceExporter({ url: s.url, timeoutMillis: s.timeoutMs });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "pingap", "service.version": VERSION, "pingap.server": server }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: s.maxQueueSize,
        scheduledDelayMillis: s.scheduledDelayMs,
        maxExportBatchSize: Math.min(s.maxExportBatchSize, s.maxQueueSize),
        exportTimeoutMillis: s.exportTimeoutMs,
      }),
    ],
  });
  return {
    tracer: provider.getTracer("pingap", VERSION),
    shutdown: () => provider.shutdown(),
  };
}
