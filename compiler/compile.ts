/**
 * The compiler pipeline: load → decode (strict, per schema) → resolve
 * names → build (routing tables, plugin chains) → warn → attach positions.
 * Pure: sources in, diagnostics and a Plan out.
 *
 * @module
 */
import { parse as parseToml } from "smol-toml";
import { maskDiagnostics, type RefContext, refContext, type RefResolver, resolveItem } from "./config_refs.ts";
import { diag, type Diagnostic, hasErrors, type KeyPath } from "./diagnostic.ts";
import { didYouMean } from "./did_you_mean.ts";
import { stableHash } from "./hash.ts";
import { ITEM_SECTIONS, type OriginMap, parseSources, type RawTree, type Source } from "./load.ts";
import { pathKey } from "./_toml_positions.ts";
import type {
  BackendAddr,
  CertificatePlan,
  HeaderOp,
  LocationConfig,
  LocationPlan,
  Plan,
  PluginPlan,
  ServerPlan,
  StoragePlan,
  UpstreamPlan,
  UpstreamRef,
} from "./plan.ts";
import { BUILTIN_PLUGINS, PLUGINS, SUPPORTED_CATEGORIES } from "./plugins/mod.ts";
import type { Step } from "./plugins/define.ts";
import { basicRules, certificateRules, serverRules, upstreamRules } from "./parity_rules.ts";
import { buildRouteTable } from "./routes/table.ts";
import { basicSchema, UNSENT_WEBHOOK_EVENTS } from "./schema/basic.ts";
import { certificateSchema } from "./schema/certificate.ts";
import { PLUGIN_COMMON_FIELDS } from "./schema/common.ts";
import { locationSchema } from "./schema/location.ts";
import { serverSchema } from "./schema/server.ts";
import { storageSchema } from "./schema/storage.ts";
import { upstreamSchema } from "./schema/upstream.ts";
import { decodeTable, isTable, notApplied, table, type TableSchema } from "./schema/types.ts";
import { isIPv4, isIPv6 } from "./values/addr.ts";
import { DEFAULT_HEALTH_CHECK } from "./values/health_check.ts";
import { computeWeight } from "./values/location_match.ts";
import { groupNames } from "./values/rust_regex.ts";
import { compileTemplate } from "./values/template.ts";
import { MAX_TIMER_MS } from "./units.ts";

/** Result of compiling: the Plan when there is no error, and every diagnostic. */
export interface CompileResult {
  readonly plan?: Plan;
  readonly diagnostics: readonly Diagnostic[];
  /** Where each key came from, for diagnostics found later (e.g. `check --live`). */
  readonly origins: OriginMap;
}

const SECTIONS = ["basic", ...ITEM_SECTIONS] as const;

const REVERSE_PROXY_HEADERS: readonly HeaderOp[] = [
  ["x-real-ip", "$remote_addr"],
  ["x-forwarded-for", "$proxy_add_x_forwarded_for"],
  ["x-forwarded-proto", "$scheme"],
  ["x-forwarded-host", "$host"],
  ["x-forwarded-port", "$server_port"],
].map(([name, value]) => ({ name: name!, value: compileTemplate(value!) }));

/** Options of {@linkcode compileSources}. */
export interface CompileOptions {
  /**
   * Looks up `$ENV:NAME` / `$FILE:/path` references (runtime/config_refs.ts). Without it they stay as written
   * (a tool that stores a config other machines run); `check` and the runtime always pass one.
   */
  readonly resolveRefs?: RefResolver;
  /**
   * Adds the items the command line makes (`--admin`: runtime/admin/flag.ts) to the merged raw config before it is
   * built. Keys it adds have no file or line; it must not change what the files said.
   */
  readonly amend?: (raw: RawTree) => RawTree;
}

/**
 * Compiles TOML sources into a Plan.
 *
 * @example Usage
 * ```ts
 * import { compileSources } from "./compile.ts";
 * const r = compileSources([{ file: "a.toml", text: '[upstreams.u]\naddrs = ["127.0.0.1:8080"]\n' }]);
 * if (r.plan?.upstreams[0]?.name !== "u") throw new Error();
 * ```
 */
export function compileSources(sources: readonly Source[], options: CompileOptions = {}): CompileResult {
  const loaded = parseSources(sources);
  const diags: Diagnostic[] = [...loaded.diagnostics];
  const origins = loaded.origins;
  if (hasErrors(diags)) return { diagnostics: attachOrigins(diags, origins, sources), origins };
  const refs = refContext(options.resolveRefs);
  const raw = options.amend ? options.amend(loaded.raw) : loaded.raw; // --admin (runtime/admin/flag.ts)
  const plan = build(raw, diags, sources, refs);
  const diagnostics = sortDiagnostics(attachOrigins(maskDiagnostics(diags, refs), loaded.origins, sources));
  return hasErrors(diagnostics) ? { diagnostics, origins } : { plan: plan!, diagnostics, origins };
}

function items(raw: RawTree, section: string, diags: Diagnostic[]): [string, Record<string, unknown>][] {
  const value = raw[section];
  if (value === undefined) return [];
  if (!isTable(value)) {
    diags.push(
      diag("wrong-type", [section], `Section "${section}" must be a table of named items`, {
        hint: `Write [${section}.<name>] headers`,
      }),
    );
    return [];
  }
  const out: [string, Record<string, unknown>][] = [];
  for (const [name, item] of Object.entries(value)) {
    if (!isTable(item)) {
      diags.push(
        diag("wrong-type", [section, name], `"${section}.${name}" must be a table`, {
          hint: `Write [${section}.${name}] and its keys below`,
        }),
      );
      continue;
    }
    out.push([name, item]);
  }
  return out;
}

/** Merges `includes` storage fragments into an item (fragment keys win). */
function expandIncludes(
  section: string,
  name: string,
  item: Record<string, unknown>,
  storages: ReadonlyMap<string, Record<string, unknown>>,
  diags: Diagnostic[],
): Record<string, unknown> {
  const list = item.includes;
  if (!Array.isArray(list)) return item;
  let out = item;
  list.forEach((ref, i) => {
    if (typeof ref !== "string") return;
    const storage = storages.get(ref);
    if (!storage) {
      diags.push(diag("unknown-reference", [section, name, "includes", i], `Storage "${ref}" is not defined`, {
        hint: didYouMean(ref, storages.keys()) ?? "Define it under [storages.<name>]",
      }));
      return;
    }
    if (typeof storage.value !== "string") return;
    try {
      const fragment = parseToml(storage.value) as Record<string, unknown>;
      out = { ...out, ...fragment };
    } catch (e) {
      diags.push(
        diag(
          "invalid-include",
          ["storages", ref, "value"],
          `Storage "${ref}" is not a valid TOML fragment: ${(e as Error).message.split("\n")[0]}`,
        ),
      );
    }
  });
  return out;
}

function compilePlugin(
  name: string,
  written: Record<string, unknown>,
  path: KeyPath,
  diags: Diagnostic[],
  refs: RefContext,
): PluginPlan | undefined {
  let raw = written;
  const category = raw.category;
  if (typeof category !== "string" || category === "") {
    diags.push(
      diag("missing-key", [...path, "category"], `Plugin "${name}" has no category`, {
        hint: `Set category to one of: ${[...PLUGINS.keys()].join(", ")}`,
      }),
    );
    return undefined;
  }
  const def = PLUGINS.get(category);
  if (!def) {
    diags.push(diag("unknown-category", [...path, "category"], `Unknown plugin category "${category}"`, {
      hint: didYouMean(category, PLUGINS.keys()) ?? `Use one of: ${[...PLUGINS.keys()].join(", ")}`,
    }));
    return undefined;
  }
  const supported = def.runtime === true;
  if (!supported) diags.push(unsupportedPlugin(name, category, path));
  const schema: TableSchema = table({
    title: `[plugins.<name>] of category "${category}"`,
    doc: def.doc,
    fields: { ...PLUGIN_COMMON_FIELDS, ...def.fields },
    ...(def.aliases ? { aliases: def.aliases } : {}),
  });
  const before = diags.length;
  raw = resolveItem(raw, schema.fields, path, refs, diags);
  const decoded = decodeTable(schema, raw, path, diags) as Record<string, unknown> | undefined;
  if (!decoded) return undefined;
  let step: Step = def.steps.default;
  if (decoded.step !== undefined) {
    const wanted = decoded.step as Step;
    if (!def.steps.allowed.includes(wanted)) {
      diags.push(
        diag("invalid-step", [...path, "step"], `Plugin category "${category}" cannot run at step "${wanted}"`, {
          hint: `Use ${def.steps.allowed.map((s) => `"${s}"`).join(" or ")}, or remove the key`,
        }),
      );
    } else step = wanted;
  }
  if (diags.slice(before).some((d) => d.severity === "error")) return undefined;
  const { category: _c, step: _s, remark: _r, ...keys } = decoded;
  const config = def.compile ? def.compile(keys as never, { path, diags }) : keys;
  // A refused plugin is still checked whole (above), so one run shows every mistake.
  if (!supported) return undefined;
  return { name, category, step, config, key: stableHash(raw) };
}

/**
 * The error for a plugin whose category has no runtime half: accepting it
 * would serve the location as if the plugin were not there (fail open). A
 * built-in (`pingap:*`) is reported at the location's `plugins` entry, a
 * `[plugins.<name>]` table at its `category`.
 */
function unsupportedPlugin(name: string, category: string, path: KeyPath): Diagnostic {
  const builtin = name.startsWith("pingap:") && BUILTIN_PLUGINS.has(name);
  const what = builtin ? `Built-in plugin "${name}" (category "${category}")` : `Plugin category "${category}"`;
  return diag(
    "not-supported",
    builtin ? path : [...path, "category"],
    `${what} is not supported by this version: it would not run, so requests would pass unchecked and unchanged`,
    {
      hint: `${builtin ? "Remove it from this location's plugins" : `Remove [plugins.${name}] and its uses`}; ` +
        `supported categories: ${SUPPORTED_CATEGORIES.join(", ")} (docs/differences.md)`,
    },
  );
}

function build(raw: RawTree, diags: Diagnostic[], sources: readonly Source[], refs: RefContext): Plan | undefined {
  for (const section of Object.keys(raw)) {
    if (!(SECTIONS as readonly string[]).includes(section)) {
      diags.push(
        diag("unknown-section", [section], `Unknown section "${section}"`, {
          hint: didYouMean(section, SECTIONS) ?? `Sections are: ${SECTIONS.join(", ")}`,
        }),
      );
    }
  }
  const rawNames = (section: string) => new Set(isTable(raw[section]) ? Object.keys(raw[section]) : []);
  const rawBasic = isTable(raw.basic) ? resolveItem(raw.basic, basicSchema.fields, ["basic"], refs, diags) : raw.basic;
  const basic = decodeTable(basicSchema, rawBasic ?? {}, ["basic"], diags) ??
    decodeTable(basicSchema, {}, ["basic"], [])!;

  // The final shutdown step waits grace_period + graceful_shutdown_timeout in one timer.
  if (basic.grace_period + basic.graceful_shutdown_timeout > MAX_TIMER_MS) {
    diags.push(
      diag(
        "out-of-range",
        ["basic", "graceful_shutdown_timeout"],
        "grace_period + graceful_shutdown_timeout is longer than the longest a timer can hold (about 24.8 days)",
        { hint: "Shorten one of them: together at most 24d" },
      ),
    );
  }
  basicRules(basic, diags);
  (basic.webhook_notifications ?? []).forEach((event, i) => {
    const reason = UNSENT_WEBHOOK_EVENTS.get(event);
    if (reason) diags.push(notApplied(["basic", "webhook_notifications", i], `Webhook event "${event}"`, reason));
  });

  // Storages first: other items include them.
  const storageRaw = new Map(items(raw, "storages", diags));
  const storages: StoragePlan[] = [];
  for (const [name, item] of storageRaw) {
    const config = decodeTable(storageSchema, item, ["storages", name], diags);
    if (config) storages.push({ name, config });
  }
  const decodeSection = <T>(section: string, schema: TableSchema) => {
    const out = new Map<string, T>();
    for (const [name, item] of items(raw, section, diags)) {
      const expanded = section === "certificates" ? item : expandIncludes(section, name, item, storageRaw, diags);
      const resolved = resolveItem(expanded, schema.fields, [section, name], refs, diags);
      const config = decodeTable(schema, resolved, [section, name], diags);
      if (config) out.set(name, config as T);
    }
    return out;
  };

  // Upstreams.
  const upstreamConfigs = decodeSection<UpstreamPlan["config"]>("upstreams", upstreamSchema);
  const upstreams: UpstreamPlan[] = [];
  const upstreamIndex = new Map<string, number>();
  for (const [name, config] of upstreamConfigs) {
    if (!upstreamRules(name, config, diags)) continue;
    const p = compileUpstream(name, config, diags);
    if (p) {
      upstreamIndex.set(name, upstreams.length);
      upstreams.push(p);
    }
  }

  // Plugins: user-defined, then built-ins on demand.
  const plugins: PluginPlan[] = [];
  const pluginIndex = new Map<string, number>();
  const pluginNames = new Set<string>();
  for (const [name, item] of items(raw, "plugins", diags)) {
    pluginNames.add(name);
    const p = compilePlugin(name, item, ["plugins", name], diags, refs);
    if (p) {
      pluginIndex.set(name, plugins.length);
      plugins.push(p);
    }
  }
  const usePlugin = (name: string, path: KeyPath): number | undefined => {
    const known = pluginIndex.get(name);
    if (known !== undefined) return known;
    if (pluginNames.has(name)) return undefined; // defined but invalid: already reported
    const builtin = BUILTIN_PLUGINS.get(name);
    if (builtin) {
      const p = compilePlugin(name, { ...builtin }, path, diags, refs);
      if (!p) return undefined;
      pluginIndex.set(name, plugins.length);
      plugins.push(p);
      return plugins.length - 1;
    }
    diags.push(diag("unknown-reference", path, `Plugin "${name}" is not defined`, {
      hint: didYouMean(name, [...pluginNames, ...BUILTIN_PLUGINS.keys()]) ??
        "Define it under [plugins.<name>] or use a pingap:* built-in",
    }));
    return undefined;
  };

  // Locations.
  const locationConfigs = decodeSection<LocationConfig>("locations", locationSchema);
  const locations: LocationPlan[] = [];
  const locationIndex = new Map<string, number>();
  const usedUpstreams = new Set<number>();
  for (const [name, config] of locationConfigs) {
    const path: KeyPath = ["locations", name];
    let upstream: UpstreamRef = { kind: "none" };
    if (config.upstream !== undefined && config.upstream !== "") {
      const u = config.upstream;
      if (u.startsWith("$")) {
        const captureNames = new Set<string>();
        if (config.path?.kind === "regex") groupNames(config.path.regex).forEach((n) => captureNames.add(n));
        for (const h of config.host ?? []) {
          if (h.kind === "regex") groupNames(h.regex).forEach((n) => captureNames.add(n));
        }
        if (config.rewrite) groupNames(config.rewrite.regex).forEach((n) => captureNames.add(n));
        const v = u.slice(1);
        if (!captureNames.has(v)) {
          diags.push(
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
        upstream = { kind: "variable", name: v };
      } else {
        const index = upstreamIndex.get(u);
        if (index === undefined) {
          if (!rawNames("upstreams").has(u)) {
            diags.push(diag("unknown-reference", [...path, "upstream"], `Upstream "${u}" is not defined`, {
              hint: didYouMean(u, upstreamConfigs.keys()) ?? "Define it under [upstreams.<name>]",
            }));
          }
        } else {
          upstream = { kind: "upstream", index };
          usedUpstreams.add(index);
        }
      }
    }
    const chain: number[] = [];
    (config.plugins ?? []).forEach((pluginName, i) => {
      const index = usePlugin(pluginName, [...path, "plugins", i]);
      if (index !== undefined) chain.push(index);
    });
    const setHeaders: HeaderOp[] = [...(config.enable_reverse_proxy_headers ? REVERSE_PROXY_HEADERS : [])];
    for (const [n, v] of config.proxy_set_headers ?? []) setHeaders.push({ name: n, value: compileTemplate(v) });
    const addHeaders = (config.proxy_add_headers ?? []).map(([n, v]) => ({ name: n, value: compileTemplate(v) }));
    const rawItem = (raw.locations as Record<string, Record<string, unknown>>)[name]!;
    const weight = config.weight ?? computeWeight(
      typeof rawItem.path === "string" ? rawItem.path.trim() : undefined,
      typeof rawItem.host === "string" ? rawItem.host : undefined,
    );
    locationIndex.set(name, locations.length);
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
      // Pingap reads a client_max_body_size of 0 as no limit, not as a limit of 0 bytes.
      config: config.client_max_body_size === 0 ? withoutKey(config, "client_max_body_size") : config,
    });
  }

  // Servers.
  const serverConfigs = decodeSection<ServerPlan["config"]>("servers", serverSchema);
  const servers: ServerPlan[] = [];
  const usedLocations = new Set<number>();
  const addrOwner = new Map<string, string>();
  for (const [name, config] of serverConfigs) {
    const path: KeyPath = ["servers", name];
    serverRules(name, config, basic, diags);
    const refs: number[] = [];
    const listed = new Set<number>();
    (config.locations ?? []).forEach((l, i) => {
      const index = locationIndex.get(l);
      if (index === undefined) {
        if (!rawNames("locations").has(l)) {
          diags.push(diag("unknown-reference", [...path, "locations", i], `Location "${l}" is not defined`, {
            hint: didYouMean(l, locationIndex.keys()) ?? "Define it under [locations.<name>]",
          }));
        }
        return;
      }
      if (listed.has(index)) {
        diags.push(
          diag("duplicate-reference", [...path, "locations", i], `Location "${l}" is listed twice`, {
            severity: "warning",
            hint: "Remove the second entry",
          }),
        );
        return;
      }
      refs.push(index);
      listed.add(index);
      usedLocations.add(index);
    });
    // Stable sort by weight, highest first.
    const ranked = refs.map((index, order) => ({ index, order })).sort((a, b) =>
      locations[b.index]!.weight - locations[a.index]!.weight || a.order - b.order
    ).map((x) => x.index);
    if (ranked.length === 0) {
      diags.push(diag("no-locations", [...path, "locations"], `Server "${name}" has no locations`, {
        severity: "warning",
        hint: "Every request to it will get 404; list locations to serve",
      }));
    }
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
      if (locations[index]!.config.grpc_web && !(config.modules ?? []).includes("grpc-web")) {
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
    servers.push({
      name,
      addrs: config.addr ?? [],
      threads: config.threads ?? basic.threads,
      locations: ranked,
      routes: buildRouteTable(ranked.map((i) => locations[i]!)),
      ...(config.access_log ? { accessLog: config.access_log } : {}),
      config,
    });
  }

  // Certificates.
  const certificates: CertificatePlan[] = [];
  for (const [name, config] of decodeSection<CertificatePlan["config"]>("certificates", certificateSchema)) {
    const path: KeyPath = ["certificates", name];
    certificateRules(name, config, diags);
    if (config.acme && (config.domains ?? []).length === 0) {
      diags.push(
        diag("missing-key", [...path, "domains"], `Certificate "${name}" uses ACME but has no domains`, {
          hint: 'Set domains = "example.com,www.example.com"',
        }),
      );
    }
    const wildcard = config.acme && !config.dns_challenge && (config.domains ?? []).find((d) => d.startsWith("*."));
    if (wildcard) {
      diags.push(
        diag("invalid-value", [...path, "domains"], `ACME issues "${wildcard}" only through dns-01`, {
          hint: "Set dns_challenge = true and a dns_provider",
        }),
      );
    }
    if (!config.acme && (config.tls_cert === undefined) !== (config.tls_key === undefined)) {
      const missing = config.tls_cert === undefined ? "tls_cert" : "tls_key";
      diags.push(
        diag(
          "missing-key",
          [...path, missing],
          `Certificate "${name}" has ${
            missing === "tls_cert" ? "a key but no certificate" : "a certificate but no key"
          }`,
          { hint: `Set ${missing}` },
        ),
      );
    }
    certificates.push({ name, config });
  }

  // Plugins that name upstreams.
  for (const p of plugins) {
    if (p.category !== "traffic_splitting") continue;
    const target = (p.config as { upstream?: string }).upstream;
    if (target === undefined || target.startsWith("$")) continue;
    const index = upstreamIndex.get(target);
    if (index !== undefined) usedUpstreams.add(index);
    else if (!rawNames("upstreams").has(target)) {
      diags.push(diag("unknown-reference", ["plugins", p.name, "upstream"], `Upstream "${target}" is not defined`, {
        hint: didYouMean(target, upstreamConfigs.keys()) ?? "Define it under [upstreams.<name>]",
      }));
    }
  }

  // Unused things.
  const anyVariable = locations.some((l) => l.upstream.kind === "variable");
  upstreams.forEach((u, i) => {
    if (!usedUpstreams.has(i) && !anyVariable) {
      diags.push(
        diag("unused", ["upstreams", u.name], `Upstream "${u.name}" is not used by any location`, {
          severity: "warning",
          hint: 'Reference it with upstream = "' + u.name + '" or remove it',
        }),
      );
    }
  });
  const usedPlugins = new Set(locations.flatMap((l) => l.plugins));
  plugins.forEach((p, i) => {
    if (!usedPlugins.has(i) && !p.name.startsWith("pingap:") && p.category !== "admin") {
      diags.push(
        diag("unused", ["plugins", p.name], `Plugin "${p.name}" is not used by any location`, {
          severity: "warning",
          hint: "Add it to a location's plugins or remove it",
        }),
      );
    }
  });
  if (servers.length > 0) {
    locations.forEach((l, i) => {
      if (!usedLocations.has(i)) {
        diags.push(
          diag("unused", ["locations", l.name], `Location "${l.name}" is not used by any server`, {
            severity: "warning",
            hint: "Add it to a server's locations or remove it",
          }),
        );
      }
    });
  }
  if (hasErrors(diags)) return undefined;
  return {
    // With references, what they named is a part of the config: a rotated secret is a change a reload applies.
    hash: refs.resolved.size === 0 ? stableHash(raw) : stableHash([raw, [...refs.resolved.keys()].sort()]),
    sources: sources.map((s) => s.file),
    basic,
    servers,
    locations,
    upstreams,
    plugins,
    certificates,
    storages,
  };
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

function compileUpstream(name: string, config: UpstreamPlan["config"], diags: Diagnostic[]): UpstreamPlan | undefined {
  const path: KeyPath = ["upstreams", name];
  const tls = (config.sni ?? "") !== "";
  const addrs = config.addrs ?? [];
  const isIp = (h: string) => isIPv4(h) || isIPv6(h);
  const discovery = config.discovery === "srv"
    ? "dns" // refused by upstreamRules before this is called
    : config.discovery ?? (addrs.every((a) => isIp(a.host)) ? "static" : "dns");
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
    backends.push({ host: a.host, port: a.port ?? (tls ? 443 : 80), weight: a.weight, isIp: isIp(a.host) });
  });
  if (discovery === "docker" || discovery === "transparent") {
    // Addresses are label filters (docker) or ignored (transparent).
  }
  if (config.tcp_probe_count !== undefined && config.tcp_probe_count > 16) return undefined;
  return {
    name,
    discovery,
    backends,
    tls,
    algo: config.algo,
    healthCheck: config.health_check ?? DEFAULT_HEALTH_CHECK,
    key: stableHash({ name, config }),
    config,
  };
}

/**
 * Warns about a location that can never match because an earlier one (by
 * weight) with no conditions matches everything it would.
 */
function warnShadowed(server: string, ranked: readonly LocationPlan[], diags: Diagnostic[]): void {
  // Earlier unconditional locations that match any host, by path kind.
  let catchAll: LocationPlan | undefined;
  const prefixes = new Map<string, LocationPlan>();
  const prefixLengths = new Set<number>();
  const exacts = new Map<string, LocationPlan>();
  for (const loc of ranked) {
    const literal = loc.path.kind === "exact"
      ? loc.path.path
      : loc.path.kind === "prefix"
      ? loc.path.prefix
      : undefined;
    let by: LocationPlan | undefined = catchAll;
    if (!by && literal !== undefined) {
      if (loc.path.kind === "exact") by = exacts.get(literal);
      for (const n of prefixLengths) {
        if (by) break;
        if (n <= literal.length) by = prefixes.get(literal.slice(0, n));
      }
    }
    if (by) {
      diags.push(
        diag(
          "shadowed",
          ["locations", loc.name],
          `Location "${loc.name}" can never match in server "${server}": "${by.name}" comes first and matches all its requests`,
          {
            severity: "warning",
            hint: `Give "${loc.name}" a higher weight, or narrow "${by.name}"`,
          },
        ),
      );
    }
    const unconditional = loc.hosts.length === 0 && !loc.matchHeaders.length && !loc.matchQuery.length &&
      !loc.matchCookies.length;
    if (!unconditional) continue;
    if (loc.path.kind === "any") catchAll ??= loc;
    else if (loc.path.kind === "prefix") {
      if (loc.path.prefix === "") catchAll ??= loc;
      if (!prefixes.has(loc.path.prefix)) prefixes.set(loc.path.prefix, loc);
      prefixLengths.add(loc.path.prefix.length);
    } else if (loc.path.kind === "exact" && !exacts.has(loc.path.path)) exacts.set(loc.path.path, loc);
  }
}

/** Sorts by file, line and column (stable; diagnostics without a place last). */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags.map((d, i) => ({ d, i })).sort((a, b) =>
    (a.d.file ?? "\uffff").localeCompare(b.d.file ?? "\uffff") || (a.d.line ?? 0) - (b.d.line ?? 0) ||
    (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i
  ).map((x) => x.d);
}

/** Attaches file, line and column to each diagnostic from the origin map. */
export function attachOrigins(
  diags: readonly Diagnostic[],
  origins: OriginMap,
  sources: readonly Source[],
): Diagnostic[] {
  return diags.map((d) => {
    if (d.file !== undefined) return d;
    for (let n = d.path.length; n > 0; n--) {
      const o = origins.get(pathKey(d.path.slice(0, n)));
      if (o) return { ...d, file: o.file, line: o.line, column: o.column };
    }
    return sources.length === 1 ? { ...d, file: sources[0]!.file, line: 1, column: 1 } : d;
  });
}

/** `value` without `key` (an optional key whose value means "unset"). */
function withoutKey<T extends object, K extends keyof T>(value: T, key: K): T {
  const { [key]: _dropped, ...rest } = value;
  return rest as T;
}
