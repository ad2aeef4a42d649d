/**
 * The config compiler: Pingap-style TOML texts in; diagnostics and a typed,
 * deeply readonly Plan out. Pure: no I/O, sockets, timers or global state
 * (reading files and etcd is `runtime/storage/`'s job; a test imports this
 * module with every permission denied).
 *
 * Pipeline: {@linkcode parseSources} (TOML + positions) →
 * strict decode per schema → resolve names → build routing tables and
 * plugin chains → warnings → positions attached to every diagnostic.
 *
 * This file is the compiler's only door: the runtime, the tests and the
 * benches import the compiler through it and nowhere else.
 *
 * @example Usage
 * ```ts
 * import { compileSources } from "./mod.ts";
 * const { plan, diagnostics } = compileSources([{ file: "inline.toml", text: "[basic]\nname = 'x'\n" }]);
 * if (!plan || diagnostics.length) throw new Error();
 * ```
 *
 * @module
 */
// Sources in, diagnostics and a Plan out.
export { attachOrigins, type CompileOptions, type CompileResult, compileSources, sortDiagnostics } from "./compile.ts";
export { isReference, parseReference, type Reference, type RefLookup, type RefResolver } from "./config_refs.ts";
export { type CheckResult, checkSources, readErrorResult, withDiagnostics } from "./check.ts";
export { diag, type Diagnostic, formatPath, hasErrors, type KeyPath, type Origin } from "./diagnostic.ts";
export { type Format, formatGithub, formatJson, formatText } from "./format.ts";
export {
  ConfigReadError,
  ITEM_SECTIONS,
  type ItemSection,
  type Loaded,
  parseSources,
  type RawTree,
  type Source,
  sourceFromBytes,
} from "./load.ts";
export type * from "./plan.ts";
export { stableHash } from "./hash.ts";
export { MAX_TIMER_MS, parseBoundedDuration, parseDuration } from "./units.ts";

// What the runtime executes: routing, values, plugin definitions, certificates.
export * from "./routes/mod.ts";
export { applyRewrite } from "./values/rewrite.ts";
export { type Template } from "./values/template.ts";
export { type HeaderLine } from "./values/header.ts";
export { ipInList, type IpNet, ipNet, parseIp } from "./values/ip.ts";
export { aesDecrypt, aesEncrypt } from "./values/aes_secret.ts";
export { type AccessLogFile, type LogPart, type Rolling } from "./values/access_log.ts";
export { type SyslogTarget, syslogTarget } from "./values/syslog.ts";
export { type AccessLogFilter } from "./values/log_filter.ts";
export { appLogParams, logTarget, type LogTargetKind, unknownParams } from "./values/log_target.ts";
export { DEFAULT_HEALTH_CHECK, type HealthCheck, healthCheck } from "./values/health_check.ts";
export { rustRegex } from "./values/rust_regex.ts";
export { type PlanOf, type PluginDefinition, type Step, STEPS } from "./plugins/define.ts";
export { BUILTIN_PLUGINS, PLUGIN_DEFINITIONS, PLUGINS, SUPPORTED_CATEGORIES } from "./plugins/mod.ts";
export { metricsTarget, pushTarget } from "./values/metrics_target.ts";
export { otlpExporter } from "./values/otlp_exporter.ts";
export { type BasicAuthPlan, type HashedAccount } from "./plugins/basic_auth.ts";
export { type PasswordHashKind } from "./plugins/_password_hash.ts";
export { type HmacAuthPlan } from "./plugins/hmac_auth.ts";
export type { ErrorPageKind, ErrorPagePlan } from "./plugins/error_page.ts";
export { type JwtPlan } from "./plugins/jwt.ts";
export { type OidcPlan } from "./plugins/oidc.ts";
export { type KeyAuthPlan } from "./plugins/key_auth.ts";
export { type RedirectPlan } from "./plugins/redirect.ts";
export { type ForwardAuthPlan } from "./plugins/forward_auth.ts";
export { type CsrfPlan } from "./plugins/csrf.ts";
export { type CombinedAuthPlan } from "./plugins/combined_auth.ts";
export { type GeoRestrictionPlan } from "./plugins/geo_restriction.ts";
export { type IpRestrictionPlan } from "./plugins/ip_restriction.ts";
export { type LimitPlan } from "./plugins/limit.ts";
export { type RefererRestrictionPlan } from "./plugins/referer_restriction.ts";
export { type UaRestrictionPlan } from "./plugins/ua_restriction.ts";
export { type RequestIdPlan } from "./plugins/request_id.ts";
export { type ResponseHeadersPlan } from "./plugins/response_headers.ts";
export { type StatsPlan } from "./plugins/stats.ts";
export { inspectCertificate, type InspectedCertificate } from "./certificate_inspect.ts";
export { material } from "./certificate_material.ts";
export { type ClientCaInspection, inspectClientCa } from "./client_ca.ts";

// The one schema definition (what a key means, for tests that walk every key).
export { decodeTable, type Fields, isTable, SECTIONS, table } from "./schema/mod.ts";
export { UNSENT_WEBHOOK_EVENTS, WEBHOOK_EVENTS } from "./schema/basic.ts";
export { PLUGIN_COMMON_FIELDS } from "./schema/common.ts";
export { type Algo } from "./schema/upstream.ts";
export { renderJsonSchema } from "./schema/generate.ts";
