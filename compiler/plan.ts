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
import type { MetricsTarget } from "./values/metrics_target.ts";
import type { OtlpExporter } from "./values/otlp_exporter.ts";

export type { MetricsTarget, PushTarget } from "./values/metrics_target.ts";
export type { OtlpExporter } from "./values/otlp_exporter.ts";

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
  /** Hash of the server's config: what a reload reports as changed. */
  readonly key: string;
  /** `global_certificates`: the addresses terminate TLS. */
  readonly globalCertificates: boolean;
  readonly tlsMinVersion?: TlsVersion;
  readonly tlsMaxVersion?: TlsVersion;
  readonly enabledH2: boolean;
  readonly proxyProtocol: boolean;
  /** `ja4`: fingerprint each TLS ClientHello (set only on a TLS listener, which `ja4` needs). */
  readonly ja4?: true;
  /** `h1_pipelining`: serve pipelined HTTP/1.1 requests in order; off, close after the first. */
  readonly h1Pipelining: boolean;
  /** `tls_client_ca` as configured (PEM, base64 PEM or a file path: the runtime reads it), on a TLS listener. */
  readonly tlsClientCa?: string;
  /** `tls_client_auth`, set with {@linkcode tlsClientCa} (default `require`). */
  readonly tlsClientAuth?: "require" | "optional";
  /** `downstream_read_timeout`, ms. */
  readonly downstreamReadTimeout?: number;
  /** `downstream_write_timeout`, ms. */
  readonly downstreamWriteTimeout?: number;
  /** `h2_max_concurrent_streams`: streams a client may have open on one HTTP/2 connection. */
  readonly h2MaxConcurrentStreams: number;
  /** `h2_max_header_list_size`, bytes. */
  readonly h2MaxHeaderListSize: number;
  /** `h2_initial_window_size`, bytes (unset: the engine's default). */
  readonly h2InitialWindowSize?: number;
  /** `h2_initial_connection_window_size`, bytes (unset: the engine's default). */
  readonly h2InitialConnectionWindowSize?: number;
  /** `h2_idle_timeout`, ms. */
  readonly h2IdleTimeout?: number;
  /** `prometheus_metrics`: a pull path or a parsed push target. */
  readonly prometheusMetrics?: MetricsTarget;
  /** `otlp_exporter`, parsed: where spans go and the batch settings. */
  readonly otlpExporter?: OtlpExporter;
  readonly enableServerTiming: boolean;
  /** Socket options of the listeners (`tcp_*`), set when any is configured. */
  readonly tcp?: ListenerTcpOptions;
}

/** TCP options set on a server's listening sockets; accepted connections inherit them (Linux). */
export interface ListenerTcpOptions {
  /**
   * SO_KEEPALIVE with its timings, when any of `tcp_idle`, `tcp_interval`, `tcp_probe_count`, `tcp_user_timeout` is
   * set; the ones left out take the kernel's defaults as in Pingap (7200 s, 75 s, 9; no user timeout).
   */
  readonly keepalive?: TcpKeepalive;
  /** TCP_FASTOPEN queue length (`tcp_fastopen`). */
  readonly fastOpen?: number;
}

/** TCP keep-alive timings (`tcp_idle`, `tcp_interval`, `tcp_probe_count`, `tcp_user_timeout`), ms and probes. */
export interface TcpKeepalive {
  readonly idle: number;
  readonly interval: number;
  readonly count: number;
  /** TCP_USER_TIMEOUT, ms (0: not set). */
  readonly userTimeout: number;
}

/** A TLS version name as `tls_min_version` / `tls_max_version` take it. */
export type TlsVersion = NonNullable<ServerConfig["tls_min_version"]>;

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
  /** Hash of the location's config: what a reload reports as changed. */
  readonly key: string;
  /** Largest request body, bytes; unset (or 0 in the config) means no limit. */
  readonly clientMaxBodySize?: number;
  /** Requests in flight at once; 0 means unlimited. */
  readonly maxProcessing: number;
  /** Retries on another backend when connecting fails (0: none). */
  readonly maxRetries: number;
  /** No retry once the request is older than this, ms. */
  readonly maxRetryWindow?: number;
  /** Time limits of its requests to the upstream, instead of the upstream's (unset when it sets none). */
  readonly timeouts?: LocationTimeouts;
  /** `grpc_web`: gRPC-Web requests are bridged to gRPC (set only when true; the server has the module). */
  readonly grpcWeb?: true;
}

/** A location's `connection_timeout`, `read_timeout` and `write_timeout`, ms. */
export interface LocationTimeouts {
  readonly connectionTimeout?: number;
  readonly readTimeout?: number;
  readonly writeTimeout?: number;
}

/** One backend address as configured (discovery may expand it). */
export interface BackendAddr {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** The host is an IP literal. */
  readonly isIp: boolean;
  /** The port was written (else 80, 443 with TLS; docker discovery then takes the container's). */
  readonly portSet: boolean;
}

/** An upstream. */
export interface UpstreamPlan {
  readonly name: string;
  readonly discovery: "static" | "dns" | "srv" | "docker" | "transparent";
  readonly backends: readonly BackendAddr[];
  /** Backends speak TLS (`sni` set). */
  readonly tls: boolean;
  readonly algo: Algo;
  readonly healthCheck: HealthCheck;
  /** Hash of the upstream's config, so the runtime can keep state across reloads. */
  readonly key: string;
  /** TLS server name (`sni`); `$host` takes the request's. */
  readonly sni?: string;
  readonly verifyCert: boolean;
  /** Connect time limits, ms (TCP; TCP and TLS). */
  readonly connectionTimeout?: number;
  readonly totalConnectionTimeout?: number;
  /** Each read and write from and to a backend, ms. */
  readonly readTimeout?: number;
  readonly writeTimeout?: number;
  /** How long an idle pooled connection is kept, ms. */
  readonly idleTimeout: number;
  readonly alpn: "h1" | "h2" | "h2h1";
  readonly maxH2Streams: number;
  /** HTTP/2 flow-control windows, bytes. */
  readonly h2StreamWindowSize?: number;
  readonly h2ConnectionWindowSize?: number;
  /** CA, client certificate and key: PEM, base64 of PEM or a file path (read by the runtime). */
  readonly ca?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly failOpen: boolean;
  readonly h1Upgrade: "websocket_only" | "preserve" | "deny";
  /** The request-header options, when one is not its default (absent: all on, the usual fast path). */
  readonly headerPolicy?: HeaderPolicy;
  /** Discovery: ignore IPv6 addresses. */
  readonly ipv4Only: boolean;
  /** How often `dns`/`srv`/`docker` discovery refreshes, ms. */
  readonly updateFrequency: number;
  /** Name servers, then search domains (`dns_domain` first), for `dns` and `srv` discovery. */
  readonly dnsServer: readonly string[];
  readonly dnsSearch: readonly string[];
  /** Backend stats and circuit breaker, when `enable_backend_stats` is on. */
  readonly circuit?: CircuitPlan;
  /** Socket options of each backend connection (`tcp_*`), set when any is configured. */
  readonly tcp?: UpstreamTcpOptions;
  /** `enable_tracer`: live connections counted (`pingap_upstream_connections`, `{:upstream_connected}`); only when on. */
  readonly tracer?: true;
}

/** Socket options set on each new backend connection of an upstream, right after it connected (Linux). */
export interface UpstreamTcpOptions {
  /** SO_KEEPALIVE with its timings, as for a server ({@linkcode ListenerTcpOptions.keepalive}). */
  readonly keepalive?: TcpKeepalive;
  /** SO_RCVBUF, bytes (`tcp_recv_buf`). */
  readonly recvBuf?: number;
}

/**
 * What is removed from a request on its way to an upstream (Pingap 0.16, its Pingora's request policy); each on by
 * default.
 */
export interface HeaderPolicy {
  /** `strip_hop_by_hop`: the hop-by-hop fields (Keep-Alive, TE, Proxy-Authorization…) are removed. */
  readonly stripHopByHop: boolean;
  /** `strip_connection_nominated`: the fields `Connection` names are removed (and protected names refused). */
  readonly stripNominated: boolean;
  /** `reject_malformed_connection_nominations`: a `Connection` token that is no field name is refused (else ignored). */
  readonly rejectMalformed: boolean;
}

/** Stats and breaker settings of an upstream (times in ms). */
export interface CircuitPlan {
  /** Stats window (`backend_stats_interval`). */
  readonly statsInterval: number;
  /** Statuses counted as failures; empty means every 5xx. */
  readonly failureStatuses: ReadonlySet<number>;
  /** Trip after this many failures in a row; 0 = off. */
  readonly maxConsecutiveFailures: number;
  /** Trip when the window's failure rate reaches this percent; 0 = off. */
  readonly maxFailurePercent: number;
  /** Requests in the window before the percent rule applies. */
  readonly minRequests: number;
  /** Successes in a row that close a half-open circuit; also its probe budget. */
  readonly halfOpenSuccesses: number;
  /** How long an open circuit rejects the backend. */
  readonly openDuration: number;
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

/** A certificate: where its material is, or how ACME obtains it. */
export interface CertificatePlan {
  readonly name: string;
  /** Hash of the certificate's config: what a reload reports as changed. */
  readonly key: string;
  /** SNI names it serves; its own SAN names when unset. */
  readonly domains?: readonly string[];
  /** Certificate, key, extra chain: PEM text, base64 of PEM or a file path (read by the runtime). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsChain?: string;
  readonly isDefault: boolean;
  readonly isCa: boolean;
  /** Renew (ACME) or warn this many days before expiry; 0 = the built-in rule. */
  readonly bufferDays: number;
  /** Set: obtained and renewed by ACME (then `domains` is not empty). */
  readonly acme?: CertificateConfig["acme"];
  readonly acmeDirectory: string;
  readonly acmeEmail?: string;
  readonly acmeContact?: readonly string[];
  readonly acmeKeyType: "ecdsa" | "rsa";
  /** `acme_ca`: PEM file of the root the ACME server's TLS chains to (read by the runtime at each order). */
  readonly acmeCa?: string;
  readonly acmeEabKid?: string;
  readonly acmeEabHmac?: string;
  readonly dnsChallenge: boolean;
  readonly dnsProvider: NonNullable<CertificateConfig["dns_provider"]>;
  readonly dnsServiceUrl?: string;
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
