/**
 * `[upstreams.<name>]` → {@linkcode UpstreamPlan}: backends as configured,
 * the discovery kind, connection options with their defaults, and the stats
 * and breaker settings, so the runtime reads numbers and never the config.
 *
 * @module
 */
import { diag, type Diagnostic, type KeyPath } from "./diagnostic.ts";
import { stableHash } from "./hash.ts";
import { upstreamRules } from "./parity_rules.ts";
import type { BackendAddr, CircuitPlan, UpstreamConfig, UpstreamPlan, UpstreamTcpOptions } from "./plan.ts";
import { keepaliveOf } from "./plan_server.ts";
import { type BuildContext, decodeSection } from "./plan_sections.ts";
import { upstreamSchema } from "./schema/upstream.ts";
import { isIPv4, isIPv6 } from "./values/addr.ts";
import { DEFAULT_HEALTH_CHECK } from "./values/health_check.ts";

/** The upstreams of a config, and the index of each by name. */
export interface CompiledUpstreams {
  readonly upstreams: readonly UpstreamPlan[];
  readonly index: ReadonlyMap<string, number>;
  /** Names that decoded (for "did you mean" hints). */
  readonly names: readonly string[];
}

/** Compiles `[upstreams]`. */
export function compileUpstreams(ctx: BuildContext): CompiledUpstreams {
  const configs = decodeSection<UpstreamConfig>(ctx, "upstreams", upstreamSchema);
  const upstreams: UpstreamPlan[] = [];
  const index = new Map<string, number>();
  for (const [name, config] of configs) {
    if (!upstreamRules(name, config, ctx.diags)) continue;
    const p = compileUpstream(name, config, ctx.diags);
    if (p) {
      index.set(name, upstreams.length);
      upstreams.push(p);
    }
  }
  return { upstreams, index, names: [...configs.keys()] };
}

/** Pingap's static-IP check (inventory §1.8): addresses no backend can have. */
function badStaticIp(host: string): boolean {
  if (isIPv4(host)) {
    const [a, b] = host.split(".").map(Number) as [number, number];
    return host === "0.0.0.0" || host === "255.255.255.255" || (a >= 224 && a <= 239) || (a === 169 && b === 254);
  }
  const h = host.toLowerCase();
  return h === "::" || /^ff/.test(h) || /^fe[89ab]/.test(h);
}

function compileUpstream(name: string, config: UpstreamConfig, diags: Diagnostic[]): UpstreamPlan | undefined {
  const path: KeyPath = ["upstreams", name];
  const tls = (config.sni ?? "") !== "";
  const addrs = config.addrs ?? [];
  const isIp = (h: string) => isIPv4(h) || isIPv6(h);
  const discovery = config.discovery ?? (addrs.every((a) => isIp(a.host)) ? "static" : "dns");
  const backends: BackendAddr[] = [];
  addrs.forEach((a, i) => {
    if (discovery === "static" && isIp(a.host) && badStaticIp(a.host)) {
      diags.push(
        diag(
          "invalid-value",
          [...path, "addrs", i],
          `Upstream address ${
            JSON.stringify(a.host)
          } is an unusable IP (unspecified, broadcast, multicast or link-local)`,
          {
            hint: "Use the backend's real address",
          },
        ),
      );
    }
    // With docker discovery the host is a label filter; with transparent the addresses are ignored.
    backends.push({
      host: a.host,
      port: a.port ?? (tls ? 443 : 80),
      weight: a.weight,
      isIp: isIp(a.host),
      portSet: a.port !== undefined,
    });
  });
  if (config.tcp_probe_count !== undefined && config.tcp_probe_count > 16) return undefined;
  const circuit = circuitPlan(config);
  const c = config;
  return {
    name,
    discovery,
    backends,
    tls,
    algo: c.algo,
    healthCheck: c.health_check ?? DEFAULT_HEALTH_CHECK,
    key: stableHash({ name, config }),
    ...(c.sni ? { sni: c.sni } : {}),
    verifyCert: c.verify_cert,
    ...(c.connection_timeout !== undefined ? { connectionTimeout: c.connection_timeout } : {}),
    ...(c.total_connection_timeout !== undefined ? { totalConnectionTimeout: c.total_connection_timeout } : {}),
    ...(c.read_timeout !== undefined ? { readTimeout: c.read_timeout } : {}),
    ...(c.write_timeout !== undefined ? { writeTimeout: c.write_timeout } : {}),
    idleTimeout: c.idle_timeout,
    alpn: c.alpn,
    maxH2Streams: c.max_h2_streams,
    ...(c.h2_stream_window_size !== undefined ? { h2StreamWindowSize: c.h2_stream_window_size } : {}),
    ...(c.h2_connection_window_size !== undefined ? { h2ConnectionWindowSize: c.h2_connection_window_size } : {}),
    ...(c.ca !== undefined ? { ca: c.ca } : {}),
    ...(c.client_cert !== undefined ? { clientCert: c.client_cert } : {}),
    ...(c.client_key !== undefined ? { clientKey: c.client_key } : {}),
    failOpen: c.fail_open,
    h1Upgrade: c.h1_upgrade,
    ...(!c.strip_hop_by_hop || !c.strip_connection_nominated || !c.reject_malformed_connection_nominations
      ? {
        headerPolicy: {
          stripHopByHop: c.strip_hop_by_hop,
          stripNominated: c.strip_connection_nominated,
          rejectMalformed: c.reject_malformed_connection_nominations,
        },
      }
      : {}),
    ipv4Only: c.ipv4_only,
    updateFrequency: c.update_frequency ?? 60_000,
    dnsServer: c.dns_server ?? [],
    dnsSearch: [...(c.dns_domain ? [c.dns_domain] : []), ...(c.dns_search ?? [])],
    ...(circuit ? { circuit } : {}),
    ...upstreamTcp(c),
    ...(c.enable_tracer ? { tracer: true as const } : {}),
  };
}

/** `{ tcp }` of an upstream's config when a socket option it applies is set (`tcp_fast_open` is warned, not here). */
function upstreamTcp(c: UpstreamConfig): { tcp: UpstreamTcpOptions } | undefined {
  const keepalive = keepaliveOf(c);
  if (keepalive === undefined && c.tcp_recv_buf === undefined) return undefined;
  return {
    tcp: {
      ...(keepalive !== undefined ? { keepalive } : {}),
      // SO_RCVBUF takes an int.
      ...(c.tcp_recv_buf !== undefined ? { recvBuf: Math.min(c.tcp_recv_buf, 0x7fff_ffff) } : {}),
    },
  };
}

/**
 * The stats and breaker settings of an upstream's config, or undefined when
 * `enable_backend_stats` is off (no stats, no breaker).
 */
export function circuitPlan(config: UpstreamConfig): CircuitPlan | undefined {
  if (!config.enable_backend_stats) return undefined;
  // Each status is checked by the schema (three digits, 100–999).
  const statuses = new Set((config.backend_failure_status_code ?? []).map((s) => Number(s.trim())));
  return {
    statsInterval: Math.max(1, config.backend_stats_interval),
    failureStatuses: statuses,
    maxConsecutiveFailures: config.circuit_break_max_consecutive_failures,
    maxFailurePercent: config.circuit_break_max_failure_percent,
    minRequests: config.circuit_break_min_requests_threshold,
    halfOpenSuccesses: Math.max(1, config.circuit_break_half_open_consecutive_success_threshold),
    openDuration: config.circuit_break_open_duration,
  };
}
