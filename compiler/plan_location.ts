/**
 * `[locations.<name>]` → {@linkcode LocationPlan}: matchers, the upstream it
 * names (resolved to an index, or a capture), header operations, its plugin
 * chain, its weight, and its limits in numbers.
 *
 * @module
 */
import { diag, type KeyPath } from "./diagnostic.ts";
import { didYouMean } from "./did_you_mean.ts";
import { stableHash } from "./hash.ts";
import type { HeaderOp, LocationConfig, LocationPlan, LocationTimeouts, UpstreamPlan, UpstreamRef } from "./plan.ts";
import type { PluginTable } from "./plan_plugin.ts";
import { type BuildContext, decodeSection, rawNames } from "./plan_sections.ts";
import type { CompiledUpstreams } from "./plan_upstream.ts";
import { locationSchema } from "./schema/location.ts";
import { computeWeight } from "./values/location_match.ts";
import { groupNames } from "./values/rust_regex.ts";
import { compileTemplate } from "./values/template.ts";

const REVERSE_PROXY_HEADERS: readonly HeaderOp[] = [
  ["x-real-ip", "$remote_addr"],
  ["x-forwarded-for", "$proxy_add_x_forwarded_for"],
  ["x-forwarded-proto", "$scheme"],
  ["x-forwarded-host", "$host"],
  ["x-forwarded-port", "$server_port"],
].map(([name, value]) => ({ name: name!, value: compileTemplate(value!) }));

/** The locations of a config, with what the servers' checks need. */
export interface CompiledLocations {
  readonly locations: readonly LocationPlan[];
  readonly index: ReadonlyMap<string, number>;
  /** `grpc_web` of each location, by index (the server must have the module). */
  readonly grpcWeb: readonly boolean[];
  /** Upstream indices a location names. */
  readonly usedUpstreams: ReadonlySet<number>;
}

/** Compiles `[locations]`. */
export function compileLocations(
  ctx: BuildContext,
  upstreams: CompiledUpstreams,
  plugins: PluginTable,
): CompiledLocations {
  const locations: LocationPlan[] = [];
  const index = new Map<string, number>();
  const grpcWeb: boolean[] = [];
  const usedUpstreams = new Set<number>();
  for (const [name, config] of decodeSection<LocationConfig>(ctx, "locations", locationSchema)) {
    const path: KeyPath = ["locations", name];
    const upstream = upstreamRef(ctx, path, config, upstreams);
    if (upstream.kind === "upstream") usedUpstreams.add(upstream.index);
    if (config.grpc_web && upstream.kind === "upstream") grpcOverH1(ctx, path, upstreams.upstreams[upstream.index]!);
    const chain: number[] = [];
    (config.plugins ?? []).forEach((pluginName, i) => {
      const p = plugins.use(pluginName, [...path, "plugins", i]);
      if (p !== undefined) chain.push(p);
    });
    const setHeaders: HeaderOp[] = [...(config.enable_reverse_proxy_headers ? REVERSE_PROXY_HEADERS : [])];
    for (const [n, v] of config.proxy_set_headers ?? []) setHeaders.push({ name: n, value: compileTemplate(v) });
    const addHeaders = (config.proxy_add_headers ?? []).map(([n, v]) => ({ name: n, value: compileTemplate(v) }));
    const rawItem = (ctx.raw.locations as Record<string, Record<string, unknown>>)[name]!;
    const weight = config.weight ?? computeWeight(
      typeof rawItem.path === "string" ? rawItem.path.trim() : undefined,
      typeof rawItem.host === "string" ? rawItem.host : undefined,
    );
    const timeouts = locationTimeouts(config);
    index.set(name, locations.length);
    grpcWeb.push(config.grpc_web);
    locations.push({
      name,
      weight,
      path: config.path ?? { kind: "any" },
      hosts: config.host ?? [],
      matchHeaders: config.match_headers ?? [],
      matchQuery: config.match_query ?? [],
      matchCookies: config.match_cookies ?? [],
      upstream,
      ...(config.rewrite ? { rewrite: config.rewrite } : {}),
      setHeaders,
      addHeaders,
      plugins: chain,
      key: stableHash(config),
      // Pingap reads a client_max_body_size of 0 as no limit, not as a limit of 0 bytes.
      ...(config.client_max_body_size ? { clientMaxBodySize: config.client_max_body_size } : {}),
      maxProcessing: config.max_processing,
      maxRetries: config.max_retries ?? 0,
      ...(config.max_retry_window !== undefined ? { maxRetryWindow: config.max_retry_window } : {}),
      ...(timeouts ? { timeouts } : {}),
      ...(config.grpc_web ? { grpcWeb: true as const } : {}),
    });
  }
  return { locations, index, grpcWeb, usedUpstreams };
}

/**
 * Warns when a `grpc_web` location's upstream speaks HTTP/1.1 (`alpn` h1, or h2h1 without TLS): gRPC needs HTTP/2,
 * whose trailers carry its status.
 */
function grpcOverH1(ctx: BuildContext, path: KeyPath, up: UpstreamPlan): void {
  if (up.alpn === "h2" || (up.alpn === "h2h1" && up.tls)) return;
  ctx.diags.push(
    diag(
      "grpc-web-h1-upstream",
      [...path, "grpc_web"],
      `Location bridges gRPC-Web to upstream "${up.name}", which speaks HTTP/1.1: gRPC needs HTTP/2`,
      { severity: "warning", hint: `Set alpn = "H2" on [upstreams.${up.name}]` },
    ),
  );
}

/** What `upstream` names: nothing, an upstream (by index), or a capture (`$name`). */
function upstreamRef(
  ctx: BuildContext,
  path: KeyPath,
  config: LocationConfig,
  upstreams: CompiledUpstreams,
): UpstreamRef {
  const u = config.upstream;
  if (u === undefined || u === "") return { kind: "none" };
  if (u.startsWith("$")) {
    const captureNames = new Set<string>();
    if (config.path?.kind === "regex") groupNames(config.path.regex).forEach((n) => captureNames.add(n));
    for (const h of config.host ?? []) {
      if (h.kind === "regex") groupNames(h.regex).forEach((n) => captureNames.add(n));
    }
    if (config.rewrite) groupNames(config.rewrite.regex).forEach((n) => captureNames.add(n));
    const v = u.slice(1);
    if (!captureNames.has(v)) {
      ctx.diags.push(
        diag(
          "unknown-capture",
          [...path, "upstream"],
          `Upstream "${u}" names no capture of this location's path, host or rewrite regex`,
          {
            hint: captureNames.size
              ? `Captures here: ${[...captureNames].join(", ")}`
              : `Add a named group (?<${v}>…) to path, host or rewrite`,
          },
        ),
      );
    }
    return { kind: "variable", name: v };
  }
  const index = upstreams.index.get(u);
  if (index !== undefined) return { kind: "upstream", index };
  if (!rawNames(ctx.raw, "upstreams").has(u)) {
    ctx.diags.push(diag("unknown-reference", [...path, "upstream"], `Upstream "${u}" is not defined`, {
      hint: didYouMean(u, upstreams.names) ?? "Define it under [upstreams.<name>]",
    }));
  }
  return { kind: "none" };
}

/** A location's `connection_timeout`, `read_timeout` and `write_timeout`, or undefined when it sets none. */
function locationTimeouts(config: LocationConfig): LocationTimeouts | undefined {
  const c = config.connection_timeout, r = config.read_timeout, w = config.write_timeout;
  if (c === undefined && r === undefined && w === undefined) return undefined;
  return {
    ...(c !== undefined ? { connectionTimeout: c } : {}),
    ...(r !== undefined ? { readTimeout: r } : {}),
    ...(w !== undefined ? { writeTimeout: w } : {}),
  };
}
