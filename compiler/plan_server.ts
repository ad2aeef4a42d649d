/**
 * `[servers.<name>]` → {@linkcode ServerPlan}: its addresses, its locations
 * ranked by weight with their routing table, and its listener, TLS,
 * metrics and tracing settings resolved (durations in ms, the metrics
 * target and the OTLP exporter parsed by the schema, their errors reported
 * at the key).
 *
 * @module
 */
import { diag, type KeyPath } from "./diagnostic.ts";
import { didYouMean } from "./did_you_mean.ts";
import { stableHash } from "./hash.ts";
import { serverRules } from "./parity_rules.ts";
import type { BasicConfig, ListenerTcpOptions, ServerConfig, ServerPlan, TcpKeepalive } from "./plan.ts";
import type { CompiledLocations } from "./plan_location.ts";
import { type BuildContext, decodeSection, rawNames } from "./plan_sections.ts";
import { warnShadowed } from "./plan_shadowed.ts";
import { buildRouteTable } from "./routes/table.ts";
import { serverSchema } from "./schema/server.ts";
import { notApplied } from "./schema/types.ts";
import { UNAPPLIED_CONTEXT_KEYS } from "./values/access_log.ts";

/** The servers of a config, and the location indices they list. */
export interface CompiledServers {
  readonly servers: readonly ServerPlan[];
  readonly usedLocations: ReadonlySet<number>;
}

/** Compiles `[servers]`. */
export function compileServers(ctx: BuildContext, basic: BasicConfig, located: CompiledLocations): CompiledServers {
  const { diags } = ctx;
  const { locations } = located;
  const servers: ServerPlan[] = [];
  const usedLocations = new Set<number>();
  const addrOwner = new Map<string, string>();
  for (const [name, config] of decodeSection<ServerConfig>(ctx, "servers", serverSchema)) {
    const path: KeyPath = ["servers", name];
    serverRules(name, config, basic, diags);
    for (const part of config.access_log?.parts ?? []) {
      if (typeof part !== "string" && "ctx" in part && Object.hasOwn(UNAPPLIED_CONTEXT_KEYS, part.ctx)) {
        diags.push(
          notApplied([...path, "access_log"], `Context key "{:${part.ctx}}"`, UNAPPLIED_CONTEXT_KEYS[part.ctx]!),
        );
      } else if (typeof part !== "string" && "ctx" in part && part.ctx.startsWith("ja4") && config.ja4 !== true) {
        diags.push(
          notApplied(
            [...path, "access_log"],
            `Context key "{:${part.ctx}}"`,
            "the server does not set `ja4 = true`, so no ClientHello is fingerprinted and it prints nothing",
          ),
        );
      }
    }
    for (const param of config.access_log?.unknownParams ?? []) {
      diags.push(
        notApplied(
          [...path, "access_log"],
          `Access-log target parameter "${param}"`,
          "the target reads only rolling (files), channel_buffer, flush_timeout, skip, min_status, min_latency, " +
            "sample, and format, process, facility, protocol (syslog://); old-log compression is basic.log_compress_*",
        ),
      );
    }
    const ranked = rankLocations(ctx, name, config, located);
    ranked.forEach((i) => usedLocations.add(i));
    for (const a of config.addr ?? []) {
      const key = `${a.hostname}:${a.port}`;
      const owner = addrOwner.get(key);
      if (owner !== undefined) {
        diags.push(
          diag("address-in-use", [...path, "addr"], `Address ${key} is already used by server "${owner}"`, {
            hint: "Give each server its own address",
          }),
        );
      } else addrOwner.set(key, name);
    }
    for (const index of ranked) {
      if (located.grpcWeb[index] && !(config.modules ?? []).includes("grpc-web")) {
        diags.push(
          diag(
            "missing-module",
            [...path, "modules"],
            `Location "${locations[index]!.name}" sets grpc_web but server "${name}" lacks the grpc-web module`,
            {
              hint: 'Add modules = ["grpc-web"]',
            },
          ),
        );
      }
    }
    warnShadowed(name, ranked.map((i) => locations[i]!), diags);
    const c = config;
    servers.push({
      name,
      addrs: c.addr ?? [],
      threads: c.threads ?? basic.threads,
      locations: ranked,
      routes: buildRouteTable(ranked.map((i) => locations[i]!)),
      ...(c.access_log ? { accessLog: c.access_log } : {}),
      key: stableHash(config),
      globalCertificates: c.global_certificates,
      ...(c.tls_min_version !== undefined ? { tlsMinVersion: c.tls_min_version } : {}),
      ...(c.tls_max_version !== undefined ? { tlsMaxVersion: c.tls_max_version } : {}),
      enabledH2: c.enabled_h2,
      proxyProtocol: c.proxy_protocol,
      ...(c.ja4 && c.global_certificates ? { ja4: true as const } : {}),
      h1Pipelining: c.h1_pipelining,
      ...(c.tls_client_ca !== undefined && c.global_certificates
        ? { tlsClientCa: c.tls_client_ca, tlsClientAuth: c.tls_client_auth ?? "require" }
        : {}),
      ...(c.downstream_read_timeout !== undefined ? { downstreamReadTimeout: c.downstream_read_timeout } : {}),
      ...(c.downstream_write_timeout !== undefined ? { downstreamWriteTimeout: c.downstream_write_timeout } : {}),
      h2MaxConcurrentStreams: c.h2_max_concurrent_streams,
      h2MaxHeaderListSize: c.h2_max_header_list_size,
      ...(c.h2_initial_window_size !== undefined ? { h2InitialWindowSize: c.h2_initial_window_size } : {}),
      ...(c.h2_initial_connection_window_size !== undefined
        ? { h2InitialConnectionWindowSize: c.h2_initial_connection_window_size }
        : {}),
      ...(c.h2_idle_timeout !== undefined ? { h2IdleTimeout: c.h2_idle_timeout } : {}),
      ...(c.prometheus_metrics ? { prometheusMetrics: c.prometheus_metrics } : {}),
      ...(c.otlp_exporter ? { otlpExporter: c.otlp_exporter } : {}),
      enableServerTiming: c.enable_server_timing,
      ...(tcpOptions(c) ?? {}),
    });
  }
  return { servers, usedLocations };
}

/** The locations a server lists, by index, highest weight first (stable); unknown and repeated ones reported. */
function rankLocations(
  ctx: BuildContext,
  name: string,
  config: ServerConfig,
  located: CompiledLocations,
): number[] {
  const path: KeyPath = ["servers", name];
  const refs: number[] = [];
  const listed = new Set<number>();
  (config.locations ?? []).forEach((l, i) => {
    const index = located.index.get(l);
    if (index === undefined) {
      if (!rawNames(ctx.raw, "locations").has(l)) {
        ctx.diags.push(diag("unknown-reference", [...path, "locations", i], `Location "${l}" is not defined`, {
          hint: didYouMean(l, located.index.keys()) ?? "Define it under [locations.<name>]",
        }));
      }
      return;
    }
    if (listed.has(index)) {
      ctx.diags.push(
        diag("duplicate-reference", [...path, "locations", i], `Location "${l}" is listed twice`, {
          severity: "warning",
          hint: "Remove the second entry",
        }),
      );
      return;
    }
    refs.push(index);
    listed.add(index);
  });
  const locations = located.locations;
  const ranked = refs.map((index, order) => ({ index, order })).sort((a, b) =>
    locations[b.index]!.weight - locations[a.index]!.weight || a.order - b.order
  ).map((x) => x.index);
  if (ranked.length === 0) {
    ctx.diags.push(diag("no-locations", [...path, "locations"], `Server "${name}" has no locations`, {
      severity: "warning",
      hint: "Every request to it will get 404; list locations to serve",
    }));
  }
  return ranked;
}

/** Pingap's defaults for the keepalive settings left out (Linux's `tcp_keepalive_*`), ms and probes. */
const KEEPALIVE_DEFAULTS = { idle: 7_200_000, interval: 75_000, count: 9 };

/** The keys `tcp_idle`, `tcp_interval`, `tcp_probe_count`, `tcp_user_timeout` of a server or an upstream. */
interface KeepaliveKeys {
  readonly tcp_idle?: number | undefined;
  readonly tcp_interval?: number | undefined;
  readonly tcp_probe_count?: number | undefined;
  readonly tcp_user_timeout?: number | undefined;
}

/**
 * SO_KEEPALIVE and its timings when any of the four keep-alive keys is set (the ones left out take the kernel's
 * defaults), for servers and upstreams alike; undefined when none is.
 */
export function keepaliveOf(c: KeepaliveKeys): TcpKeepalive | undefined {
  if (
    c.tcp_idle === undefined && c.tcp_interval === undefined && c.tcp_probe_count === undefined &&
    c.tcp_user_timeout === undefined
  ) return undefined;
  return {
    idle: c.tcp_idle ?? KEEPALIVE_DEFAULTS.idle,
    interval: c.tcp_interval ?? KEEPALIVE_DEFAULTS.interval,
    count: c.tcp_probe_count ?? KEEPALIVE_DEFAULTS.count,
    userTimeout: c.tcp_user_timeout ?? 0,
  };
}

/** `{ tcp }` of a server's config when any TCP option is set (Pingap's `new_tcp_keepalive` and `tcp_fastopen`). */
function tcpOptions(c: ServerConfig): { tcp: ListenerTcpOptions } | undefined {
  const keepalive = keepaliveOf(c);
  if (keepalive === undefined && c.tcp_fastopen === undefined) return undefined;
  return {
    tcp: {
      ...(keepalive !== undefined ? { keepalive } : {}),
      ...(c.tcp_fastopen !== undefined ? { fastOpen: c.tcp_fastopen } : {}),
    },
  };
}
