/**
 * The Plan: what the runtime executes. Typed, deeply readonly plain data
 * (RegExp and Map included) that survives `structuredClone`, so workers can
 * receive it. Names are resolved to indices, regexes compiled, durations in
 * milliseconds, sizes in bytes, routing tables built.
 *
 * @module
 */
import type { PluginDefinition, Step } from "./plugins/define.ts";
import type { basicSchema } from "./schema/basic.ts";
import type { certificateSchema } from "./schema/certificate.ts";
import type { locationSchema } from "./schema/location.ts";
import type { serverSchema } from "./schema/server.ts";
import type { storageSchema } from "./schema/storage.ts";
import type { Algo, upstreamSchema } from "./schema/upstream.ts";
import type { Decoded } from "./schema/types.ts";
import type { AccessLog } from "./values/access_log.ts";
import type { ListenAddr } from "./values/addr.ts";
import type { HealthCheck } from "./values/health_check.ts";
import type { Condition, HostMatch, PathMatch } from "./values/location_match.ts";
import type { Rewrite } from "./values/rewrite.ts";
import type { Template } from "./values/template.ts";
import type { RouteTable } from "./routes/table.ts";

/** Decoded `[basic]`. */
export type BasicConfig = Decoded<typeof basicSchema.fields>;
/** Decoded `[servers.<name>]`. */
export type ServerConfig = Decoded<typeof serverSchema.fields>;
/** Decoded `[locations.<name>]`. */
export type LocationConfig = Decoded<typeof locationSchema.fields>;
/** Decoded `[upstreams.<name>]`. */
export type UpstreamConfig = Decoded<typeof upstreamSchema.fields>;
/** Decoded `[certificates.<name>]`. */
export type CertificateConfig = Decoded<typeof certificateSchema.fields>;
/** Decoded `[storages.<name>]`. */
export type StorageConfig = Decoded<typeof storageSchema.fields>;

/** A server: listeners and its routing table. */
export interface ServerPlan {
  readonly name: string;
  readonly addrs: readonly ListenAddr[];
  /** Worker isolates (0 resolved to the core count by the runtime). */
  readonly threads: number;
  /** Indices into {@linkcode Plan.locations}, highest weight first. */
  readonly locations: readonly number[];
  readonly routes: RouteTable;
  readonly accessLog?: AccessLog;
  readonly config: ServerConfig;
}

/** Where a location sends requests. */
export type UpstreamRef =
  | { readonly kind: "none" }
  | { readonly kind: "upstream"; readonly index: number }
  /** `$name`: the name comes from a capture at request time. */
  | { readonly kind: "variable"; readonly name: string };

/** A header operation on the upstream request. */
export interface HeaderOp {
  /** Lower-cased header name. */
  readonly name: string;
  readonly value: Template;
}

/** A location. */
export interface LocationPlan {
  readonly name: string;
  readonly weight: number;
  readonly path: PathMatch;
  readonly hosts: readonly HostMatch[];
  readonly matchHeaders: readonly Condition[];
  readonly matchQuery: readonly Condition[];
  readonly matchCookies: readonly Condition[];
  readonly upstream: UpstreamRef;
  readonly rewrite?: Rewrite;
  /** Reverse-proxy defaults (if enabled), then `proxy_set_headers`. */
  readonly setHeaders: readonly HeaderOp[];
  readonly addHeaders: readonly HeaderOp[];
  /** Indices into {@linkcode Plan.plugins}, in run order. */
  readonly plugins: readonly number[];
  readonly config: LocationConfig;
}

/** One backend address as configured (discovery may expand it). */
export interface BackendAddr {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** The host is an IP literal. */
  readonly isIp: boolean;
}

/** An upstream. */
export interface UpstreamPlan {
  readonly name: string;
  readonly discovery: "static" | "dns" | "docker" | "transparent";
  readonly backends: readonly BackendAddr[];
  /** Backends speak TLS (`sni` set). */
  readonly tls: boolean;
  readonly algo: Algo;
  readonly healthCheck: HealthCheck;
  /** Hash of the upstream's config, so the runtime can keep state across reloads. */
  readonly key: string;
  readonly config: UpstreamConfig;
}

/** A plugin instance. */
export interface PluginPlan {
  readonly name: string;
  readonly category: string;
  readonly step: Step;
  /** What the plugin's compiler returned. */
  readonly config: unknown;
  /** Hash of the plugin's config: unchanged plugins keep their state across reloads. */
  readonly key: string;
}

/** A certificate. */
export interface CertificatePlan {
  readonly name: string;
  readonly config: CertificateConfig;
}

/** A storage entry. */
export interface StoragePlan {
  readonly name: string;
  readonly config: StorageConfig;
}

/** The compiled config. */
export interface Plan {
  /** Stable hash of the config: an unchanged reload is skipped. */
  readonly hash: string;
  /** Files (or keys) the config came from. */
  readonly sources: readonly string[];
  readonly basic: BasicConfig;
  readonly servers: readonly ServerPlan[];
  readonly locations: readonly LocationPlan[];
  readonly upstreams: readonly UpstreamPlan[];
  readonly plugins: readonly PluginPlan[];
  readonly certificates: readonly CertificatePlan[];
  readonly storages: readonly StoragePlan[];
}

/** A plugin category's definition, as the registry holds it. */
export type AnyPluginDefinition = PluginDefinition;
