/**
 * One OTLP/HTTP trace pipeline per `otlp_exporter` URL: the OTel SDK's
 * tracer provider with a batch span processor and the OTLP/HTTP (JSON)
 * exporter, all from npm. The URL and Pingap's parameters (`timeout`,
 * `max_queue_size`, `scheduled_delay`, `max_export_batch_size`,
 * `max_export_timeout`) are parsed by the compiler
 * (compiler/values/otlp_exporter.ts), their errors found by `check`.
 *
 * @module
 */
import type { Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { OtlpExporter } from "../../../compiler/mod.ts";
import { VERSION } from "../../proxy/errors.ts";

/** Export settings of an `otlp_exporter` value, parsed by the compiler. */
export type ExporterSettings = OtlpExporter;

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
