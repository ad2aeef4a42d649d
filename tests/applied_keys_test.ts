/**
 * Every key `check` accepts either does something or says it does not.
 *
 * Each schema key (every section, the plugin common keys, and the keys of
 * every plugin category that runs) must be in {@linkcode APPLIED}, naming
 * the source file that applies it (which must read it), or carry
 * `unapplied: "why"` in its schema definition (then `check` warns where it
 * is set and docs/config.md says so) — never both, never neither. Every
 * plugin category runs or is refused, and every webhook event is sent
 * somewhere in the runtime or listed as never sent. Adding a key, a plugin
 * kind or an event without its runtime use or declaration fails here.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  compileSources,
  decodeTable,
  type Diagnostic,
  type Fields,
  formatPath,
  PLUGIN_COMMON_FIELDS,
  PLUGINS,
  SECTIONS,
  table,
  UNSENT_WEBHOOK_EVENTS,
  WEBHOOK_EVENTS,
} from "../compiler/mod.ts";

const ROOT = new URL("../", import.meta.url);

/** Where a key is applied: a file that reads it (as `.key`, `.camelKey` or `.prop`), or why it needs no code. */
type Applied = { readonly file: string; readonly prop?: string } | { readonly descriptive: string };

const R = (file: string, prop?: string): Applied => prop ? { file, prop } : { file };
/** Applied by the compiler: resolved into the Plan (routing, references, the circuit settings the runtime reads). */
const SECTIONS_FILE = "compiler/plan_sections.ts";
const SERVER = "compiler/plan_server.ts";
const LOCATION = "compiler/plan_location.ts";
const UPSTREAM = "compiler/plan_upstream.ts";
const PLUGIN = "compiler/plan_plugin.ts";
const REMARK: Applied = { descriptive: "a comment for people" };

/** The keys this version applies, by `<section>.<key>` (plugins as `plugins(<category>).<key>`). */
const APPLIED: Readonly<Record<string, Applied>> = {
  "basic.name": R("runtime/observe/notify.ts", "name"),
  "basic.error_template": R("runtime/proxy/pipeline.ts"),
  "basic.pid_file": R("runtime/process/upgrade.ts"),
  "basic.threads": R("runtime/process/run.ts"),
  "basic.grace_period": R("runtime/lifecycle/serve.ts"),
  "basic.graceful_shutdown_timeout": R("runtime/lifecycle/serve.ts"),
  "basic.upstream_keepalive_pool_size": R("runtime/lifecycle/start.ts"),
  "basic.trusted_proxies": R("runtime/lifecycle/respond.ts"),
  "basic.webhook": R("runtime/observe/notify.ts"),
  "basic.webhook_type": R("runtime/observe/notify.ts"),
  "basic.webhook_notifications": R("runtime/observe/notify.ts"),
  "basic.webhook_min_level": R("runtime/observe/notify.ts"),
  "basic.webhook_headers": R("runtime/observe/notify.ts"),
  "basic.webhook_secret": R("runtime/observe/notify.ts"),
  "basic.webhook_template": R("runtime/observe/notify.ts"),
  "basic.webhook_retries": R("runtime/observe/notify.ts"),
  "basic.webhook_batch_window": R("runtime/observe/notify.ts"),
  "basic.webhook_batch_max_events": R("runtime/observe/notify.ts"),
  "basic.log_level": R("runtime/observe/log/app_log.ts"),
  "basic.log_format_json": R("runtime/observe/log/app_log.ts"),
  "basic.log_compress_algorithm": R("runtime/observe/log/compress.ts"),
  "basic.log_compress_level": R("runtime/observe/log/compress.ts"),
  "basic.log_compress_days_ago": R("runtime/observe/log/compress.ts"),
  "basic.log_compress_time_point_hour": R("runtime/observe/log/compress.ts"),

  "servers.addr": R(SERVER),
  "servers.access_log": R(SERVER),
  "servers.locations": R(SERVER),
  "servers.threads": R(SERVER),
  "servers.tls_min_version": R("runtime/tls/mod.ts"),
  "servers.tls_max_version": R("runtime/tls/mod.ts"),
  "servers.global_certificates": R("runtime/tls/mod.ts"),
  "servers.enabled_h2": R("runtime/lifecycle/listeners.ts"),
  "servers.downstream_read_timeout": R("runtime/lifecycle/engines.ts"),
  "servers.downstream_write_timeout": R("runtime/lifecycle/engines.ts"),
  "servers.h2_max_concurrent_streams": R("runtime/lifecycle/engines.ts"),
  "servers.h2_max_header_list_size": R("runtime/lifecycle/engines.ts"),
  "servers.h2_initial_window_size": R("runtime/lifecycle/engines.ts"),
  "servers.h2_initial_connection_window_size": R("runtime/lifecycle/engines.ts"),
  "servers.h2_idle_timeout": R("runtime/lifecycle/engines.ts"),
  "servers.proxy_protocol": R("runtime/lifecycle/listeners.ts"),
  "servers.ja4": R("runtime/tls/mod.ts"),
  "servers.h1_pipelining": R("runtime/lifecycle/listeners.ts"),
  "servers.tls_client_ca": R("runtime/storage/certificates.ts"),
  "servers.tls_client_auth": R("runtime/tls/mod.ts"),
  "servers.prometheus_metrics": R("runtime/lifecycle/activate.ts"),
  "servers.otlp_exporter": R("runtime/observe/observer.ts"),
  "servers.enable_server_timing": R("runtime/observe/observer.ts"),
  "servers.modules": R(SERVER),
  "servers.tcp_idle": R("runtime/listen/tcp_options.ts", "keepalive"),
  "servers.tcp_interval": R("runtime/listen/tcp_options.ts", "keepalive"),
  "servers.tcp_probe_count": R("runtime/listen/tcp_options.ts", "keepalive"),
  "servers.tcp_user_timeout": R("runtime/listen/tcp_options.ts", "userTimeout"),
  "servers.tcp_fastopen": R("runtime/listen/tcp_options.ts", "fastOpen"),
  "servers.includes": R(SECTIONS_FILE),
  "servers.remark": REMARK,

  "locations.upstream": R(LOCATION),
  "locations.path": R(LOCATION),
  "locations.host": R(LOCATION),
  "locations.match_headers": R(LOCATION),
  "locations.match_query": R(LOCATION),
  "locations.match_cookies": R(LOCATION),
  "locations.proxy_set_headers": R(LOCATION),
  "locations.proxy_add_headers": R(LOCATION),
  "locations.rewrite": R("runtime/proxy/pipeline.ts"),
  "locations.weight": R(LOCATION),
  "locations.plugins": R(LOCATION),
  "locations.client_max_body_size": R("runtime/proxy/pipeline.ts"),
  "locations.max_processing": R("runtime/proxy/pipeline.ts"),
  "locations.enable_reverse_proxy_headers": R(LOCATION),
  "locations.grpc_web": R("runtime/proxy/pipeline.ts", "grpcWeb"),
  "locations.max_retries": R("runtime/proxy/pipeline.ts"),
  "locations.max_retry_window": R("runtime/proxy/pipeline.ts"),
  "locations.connection_timeout": R("runtime/upstream/types.ts"),
  "locations.read_timeout": R("runtime/upstream/types.ts"),
  "locations.write_timeout": R("runtime/upstream/types.ts"),
  "locations.includes": R(SECTIONS_FILE),
  "locations.remark": REMARK,

  "upstreams.addrs": R(UPSTREAM),
  "upstreams.discovery": R(UPSTREAM),
  "upstreams.dns_server": R("runtime/upstream/discovery.ts", "dnsServer"),
  "upstreams.dns_domain": R("runtime/upstream/discovery.ts", "dnsSearch"),
  "upstreams.dns_search": R("runtime/upstream/discovery.ts", "dnsSearch"),
  "upstreams.update_frequency": R("runtime/upstream/discovery.ts"),
  "upstreams.algo": R(UPSTREAM),
  "upstreams.sni": R(UPSTREAM),
  "upstreams.verify_cert": R("runtime/upstream/registry.ts"),
  "upstreams.health_check": R(UPSTREAM),
  "upstreams.ipv4_only": R("runtime/upstream/discovery.ts"),
  "upstreams.enable_backend_stats": R(UPSTREAM),
  "upstreams.backend_failure_status_code": R(UPSTREAM),
  "upstreams.backend_stats_interval": R(UPSTREAM),
  "upstreams.circuit_break_max_consecutive_failures": R(UPSTREAM),
  "upstreams.circuit_break_max_failure_percent": R(UPSTREAM),
  "upstreams.circuit_break_min_requests_threshold": R(UPSTREAM),
  "upstreams.circuit_break_half_open_consecutive_success_threshold": R(UPSTREAM),
  "upstreams.circuit_break_open_duration": R(UPSTREAM),
  "upstreams.alpn": R("runtime/upstream/provider.ts"),
  "upstreams.max_h2_streams": R("runtime/upstream/provider.ts"),
  "upstreams.connection_timeout": R("runtime/upstream/registry.ts"),
  "upstreams.total_connection_timeout": R("runtime/upstream/registry.ts"),
  "upstreams.read_timeout": R("runtime/upstream/registry.ts"),
  "upstreams.idle_timeout": R("runtime/upstream/registry.ts"),
  "upstreams.write_timeout": R("runtime/upstream/registry.ts"),
  "upstreams.ca": R("runtime/upstream/upstream_ca.ts"),
  "upstreams.fail_open": R("runtime/upstream/registry.ts"),
  "upstreams.h1_upgrade": R("runtime/proxy/pipeline.ts"),
  "upstreams.strip_hop_by_hop": R("runtime/upstream/http1/head.ts", "stripHopByHop"),
  "upstreams.strip_connection_nominated": R("runtime/upstream/http1/head.ts", "stripNominated"),
  "upstreams.reject_malformed_connection_nominations": R("runtime/upstream/http1/head.ts", "rejectMalformed"),
  "upstreams.client_cert": R("runtime/upstream/upstream_ca.ts", "clientCert"),
  "upstreams.client_key": R("runtime/upstream/upstream_ca.ts", "clientKey"),
  "upstreams.h2_stream_window_size": R("runtime/upstream/provider.ts"),
  "upstreams.h2_connection_window_size": R("runtime/upstream/provider.ts"),
  "upstreams.tcp_idle": R("runtime/upstream/socket_options.ts", "keepalive"),
  "upstreams.tcp_interval": R("runtime/upstream/socket_options.ts", "keepalive"),
  "upstreams.tcp_probe_count": R("runtime/upstream/socket_options.ts", "keepalive"),
  "upstreams.tcp_user_timeout": R("runtime/upstream/socket_options.ts", "userTimeout"),
  "upstreams.tcp_recv_buf": R("runtime/upstream/socket_options.ts", "recvBuf"),
  "upstreams.enable_tracer": R("runtime/observe/metrics/upstream_source.ts", "tracer"),
  "upstreams.includes": R(SECTIONS_FILE),
  "upstreams.remark": REMARK,

  "certificates.domains": R("runtime/acme/manager.ts"),
  "certificates.tls_cert": R("runtime/tls/mod.ts"),
  "certificates.tls_key": R("runtime/tls/mod.ts"),
  "certificates.tls_chain": R("runtime/tls/mod.ts"),
  "certificates.is_default": R("runtime/acme/manager.ts"),
  "certificates.is_ca": R("runtime/tls/store.ts"),
  "certificates.acme": R("runtime/acme/mod.ts"),
  "certificates.acme_directory": R("runtime/acme/manager.ts"),
  "certificates.acme_email": R("runtime/acme/manager.ts"),
  "certificates.dns_challenge": R("runtime/acme/manager.ts"),
  "certificates.dns_provider": R("runtime/acme/dns/provider.ts"),
  "certificates.dns_service_url": R("runtime/acme/dns/provider.ts"),
  "certificates.buffer_days": R("runtime/acme/manager.ts"),
  "certificates.acme_key_type": R("runtime/acme/manager.ts"),
  "certificates.acme_eab_kid": R("runtime/acme/manager.ts"),
  "certificates.acme_eab_hmac": R("runtime/acme/manager.ts"),
  "certificates.acme_contact": R("runtime/acme/manager.ts"),
  "certificates.acme_ca": R("runtime/acme/manager.ts", "acmeCa"),
  "certificates.remark": REMARK,

  "storages.category": { descriptive: "says what the value is (a config fragment or a secret) for people and tools" },
  "storages.value": R(SECTIONS_FILE),
  "storages.secret": R(SECTIONS_FILE, "secret"),
  "storages.remark": REMARK,

  "plugins.category": R(PLUGIN),
  "plugins.step": R("runtime/lifecycle/activate.ts"),
  "plugins.remark": REMARK,

  "plugins(ping).path": R("runtime/plugins/ping.ts"),
  "plugins(stats).path": R("runtime/plugins/stats.ts"),
  "plugins(mock).path": R("runtime/plugins/mock.ts"),
  "plugins(mock).status": R("runtime/plugins/mock.ts"),
  "plugins(mock).headers": R("runtime/plugins/mock.ts"),
  "plugins(mock).data": R("runtime/plugins/mock.ts"),
  "plugins(mock).delay": R("runtime/plugins/mock.ts"),
  "plugins(request_id).algorithm": R("runtime/plugins/request_id.ts"),
  "plugins(request_id).size": R("runtime/plugins/request_id.ts"),
  "plugins(request_id).header_name": R("runtime/plugins/request_id.ts"),
  "plugins(redirect).http_to_https": R("runtime/plugins/redirect.ts"),
  "plugins(redirect).prefix": R("runtime/plugins/redirect.ts"),
  "plugins(redirect).status": R("runtime/plugins/redirect.ts"),
  "plugins(response_headers).add_headers": R("runtime/plugins/response_headers.ts", "add"),
  "plugins(response_headers).set_headers": R("runtime/plugins/response_headers.ts", "set"),
  "plugins(response_headers).remove_headers": R("runtime/plugins/response_headers.ts", "remove"),
  "plugins(response_headers).rename_headers": R("runtime/plugins/response_headers.ts", "rename"),
  "plugins(response_headers).set_headers_not_exists": R("runtime/plugins/response_headers.ts", "setIfAbsent"),
  "plugins(response_headers).mode": R("runtime/plugins/response_headers.ts"),
  "plugins(cors).path": R("runtime/plugins/cors.ts", "path"),
  "plugins(cors).allow_origin": R("runtime/plugins/cors.ts"),
  "plugins(cors).allow_methods": R("runtime/plugins/cors.ts", "headers"),
  "plugins(cors).allow_headers": R("runtime/plugins/cors.ts", "headers"),
  "plugins(cors).allow_credentials": R("runtime/plugins/cors.ts", "headers"),
  "plugins(cors).expose_headers": R("runtime/plugins/cors.ts", "headers"),
  "plugins(cors).max_age": R("runtime/plugins/cors.ts", "headers"),
  "plugins(traffic_splitting).upstream": R("runtime/plugins/traffic_splitting.ts", "upstream"),
  "plugins(traffic_splitting).weight": R("runtime/plugins/traffic_splitting.ts", "weight"),
  "plugins(traffic_splitting).stickiness": R("runtime/plugins/traffic_splitting.ts", "stickiness"),
  "plugins(traffic_splitting).sticky_cookie": R("runtime/plugins/traffic_splitting.ts"),
  "plugins(traffic_splitting).sticky_header": R("runtime/plugins/traffic_splitting.ts"),
  "plugins(traffic_splitting).matcher": R("runtime/plugins/traffic_splitting.ts", "matcher"),
  "plugins(directory).path": R("runtime/plugins/directory.ts", "path"),
  "plugins(directory).index": R("runtime/plugins/directory.ts", "index"),
  "plugins(directory).autoindex": R("runtime/plugins/directory.ts"),
  "plugins(directory).chunk_size": R("runtime/plugins/directory.ts"),
  "plugins(directory).max_age": R("runtime/plugins/directory.ts"),
  "plugins(directory).private": R("runtime/plugins/directory.ts", "private"),
  "plugins(directory).charset": R("runtime/plugins/directory.ts"),
  "plugins(directory).download": R("runtime/plugins/directory.ts"),
  "plugins(directory).follow_symlinks": R("runtime/plugins/directory.ts"),
  "plugins(directory).headers": R("runtime/plugins/directory.ts", "headers"),
  "plugins(forward_auth).auth_url": R("runtime/plugins/forward_auth.ts", "authUrl"),
  "plugins(forward_auth).request_headers": R("runtime/plugins/forward_auth.ts", "requestHeaders"),
  "plugins(forward_auth).add_headers": R("runtime/plugins/forward_auth.ts", "addHeaders"),
  "plugins(forward_auth).timeout": R("runtime/plugins/forward_auth.ts", "timeout"),
  "plugins(csrf).token_path": R("runtime/plugins/csrf.ts", "tokenPath"),
  "plugins(csrf).key": R("runtime/plugins/csrf.ts", "key"),
  "plugins(csrf).name": R("runtime/plugins/csrf.ts", "name"),
  "plugins(csrf).ttl": R("runtime/plugins/csrf.ts", "ttl"),
  "plugins(compression).gzip_level": R("runtime/plugins/compression.ts"),
  "plugins(compression).br_level": R("runtime/plugins/compression.ts"),
  "plugins(compression).zstd_level": R("runtime/plugins/compression.ts"),
  "plugins(compression).mode": R("runtime/plugins/compression.ts"),
  "plugins(compression).min_length": R("runtime/plugins/compression.ts"),
  "plugins(compression).decompression": R("runtime/plugins/compression.ts"),
  "plugins(compression).types": R("runtime/plugins/compression.ts"),
  "plugins(compression).skip": R("runtime/plugins/compression.ts"),
  "plugins(accept_encoding).encodings": R("runtime/plugins/accept_encoding.ts"),
  "plugins(accept_encoding).only_one_encoding": R("runtime/plugins/accept_encoding.ts"),
  "plugins(sub_filter).path": R("runtime/plugins/sub_filter.ts", "path"),
  "plugins(sub_filter).filters": R("runtime/plugins/sub_filter.ts", "filters"),
  "plugins(sub_filter).status_codes": R("runtime/plugins/sub_filter.ts", "statusCodes"),
  "plugins(cache).directory": R("runtime/plugins/cache_backend.ts", "backend"),
  "plugins(cache).namespace": R("runtime/plugins/cache.ts"),
  "plugins(cache).headers": R("runtime/plugins/cache.ts"),
  "plugins(cache).max_ttl": R("runtime/plugins/cache_freshness.ts", "maxTtl"),
  "plugins(cache).max_file_size": R("runtime/plugins/cache.ts"),
  "plugins(cache).lock": R("runtime/plugins/cache.ts"),
  "plugins(cache).check_cache_control": R("runtime/plugins/cache_freshness.ts"),
  "plugins(cache).purge_ip_list": R("runtime/plugins/cache.ts"),
  "plugins(cache).skip": R("runtime/plugins/cache.ts"),
  "plugins(image_optim).output_types": R("runtime/plugins/image_optim.ts"),
  "plugins(image_optim).png_quality": R("runtime/plugins/image_codec.ts"),
  "plugins(image_optim).jpeg_quality": R("runtime/plugins/image_codec.ts"),
  "plugins(image_optim).avif_quality": R("runtime/plugins/image_codec.ts"),
  "plugins(image_optim).avif_speed": R("runtime/plugins/image_codec.ts"),
  "plugins(cache).vary_headers": R("runtime/plugins/cache.ts", "varyHeaders"),
  "plugins(cache).status_ttl": R("runtime/plugins/cache_freshness.ts", "statusTtl"),
  "plugins(admin).path": R("runtime/admin/plugin.ts", "path"),
  "plugins(admin).authorizations": R("runtime/admin/plugin.ts", "accounts"),
  "plugins(admin).max_age": R("runtime/admin/plugin.ts", "maxAge"),
  "plugins(admin).ip_fail_limit": R("runtime/admin/plugin.ts", "ipFailLimit"),
  "plugins(admin).readonly_authorizations": R("runtime/admin/plugin.ts", "readonly"),
  "plugins(admin).tokens": R("runtime/admin/plugin.ts", "tokens"),
  "plugins(admin).readonly_tokens": R("runtime/admin/plugin.ts", "readonly"),
  "plugins(combined_auth).authorizations": R("runtime/plugins/combined_auth_check.ts", "apps"),
  "plugins(basic_auth).authorizations": R("runtime/plugins/basic_auth.ts", "expected"),
  "plugins(basic_auth).delay": R("runtime/plugins/basic_auth.ts"),
  "plugins(basic_auth).htpasswd": R("runtime/plugins/basic_auth.ts", "hashed"),
  "plugins(basic_auth).hide_credentials": R("runtime/plugins/basic_auth.ts"),
  "plugins(basic_auth).ip_fail_limit": R("runtime/plugins/basic_auth.ts"),
  "plugins(basic_auth).ip_fail_window": R("runtime/plugins/basic_auth.ts"),
  "plugins(basic_auth).realm": R("runtime/plugins/basic_auth.ts", "challenge"),
  "plugins(key_auth).query": R("runtime/plugins/key_auth.ts"),
  "plugins(key_auth).header": R("runtime/plugins/key_auth.ts"),
  "plugins(key_auth).keys": R("runtime/plugins/key_auth.ts"),
  "plugins(key_auth).delay": R("runtime/plugins/key_auth.ts"),
  "plugins(key_auth).hide_credentials": R("runtime/plugins/key_auth.ts"),
  "plugins(jwt).header": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).cookie": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).query": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).secret": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).algorithm": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).public_key": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).jwks_url": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).jwks_ttl": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).auth_path": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).delay": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).require_exp": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).leeway": R("runtime/plugins/jwt.ts"),
  "plugins(jwt).issuers": R("runtime/plugins/jwt_token.ts"),
  "plugins(jwt).audiences": R("runtime/plugins/jwt_token.ts"),
  "plugins(jwt).required_claims": R("runtime/plugins/jwt_token.ts"),
  "plugins(jwt).claims_to_headers": R("runtime/plugins/jwt.ts"),
  "plugins(hmac_auth).keys": R("runtime/plugins/hmac_auth.ts"),
  "plugins(hmac_auth).signed_headers": R("runtime/plugins/hmac_auth.ts", "signedHeaders"),
  "plugins(hmac_auth).clock_skew": R("runtime/plugins/hmac_auth.ts", "clockSkew"),
  "plugins(hmac_auth).validate_body": R("runtime/plugins/hmac_auth.ts", "validateBody"),
  "plugins(request_headers).add_headers": R("runtime/plugins/request_headers.ts", "add"),
  "plugins(request_headers).remove_headers": R("runtime/plugins/request_headers.ts", "remove"),
  "plugins(request_headers).set_headers": R("runtime/plugins/request_headers.ts", "set"),
  "plugins(request_headers).set_headers_not_exists": R("runtime/plugins/request_headers.ts", "setIfAbsent"),
  "plugins(request_headers).rename_headers": R("runtime/plugins/request_headers.ts", "rename"),
  "plugins(maintenance).enabled": R("runtime/plugins/maintenance.ts", "enabled"),
  "plugins(maintenance).status": R("runtime/plugins/maintenance.ts", "status"),
  "plugins(maintenance).retry_after": R("runtime/plugins/maintenance.ts", "retryAfter"),
  "plugins(maintenance).message": R("runtime/plugins/maintenance.ts", "body"),
  "plugins(maintenance).html": R("runtime/plugins/maintenance.ts", "body"),
  "plugins(maintenance).allow_ip_list": R("runtime/plugins/maintenance.ts", "allowIps"),
  "plugins(maintenance).allow_header": R("runtime/plugins/maintenance.ts", "allowHeader"),
  "plugins(uri_block).paths": R("runtime/plugins/uri_block.ts", "paths"),
  "plugins(uri_block).queries": R("runtime/plugins/uri_block.ts", "queries"),
  "plugins(uri_block).methods": R("runtime/plugins/uri_block.ts", "methods"),
  "plugins(uri_block).status": R("runtime/plugins/uri_block.ts", "status"),
  "plugins(uri_block).message": R("runtime/plugins/uri_block.ts", "message"),
  "plugins(error_page).pages": R("runtime/plugins/error_page.ts", "pages"),
  "plugins(error_page).json": R("runtime/plugins/error_page.ts", "json"),
  "plugins(error_page).intercept": R("runtime/plugins/error_page.ts", "intercept"),
  "plugins(hmac_auth).hide_credentials": R("runtime/plugins/hmac_auth.ts"),
  "plugins(oidc).issuer": R("runtime/plugins/oidc.ts"),
  "plugins(oidc).client_id": R("runtime/plugins/oidc.ts", "clientId"),
  "plugins(oidc).client_secret": R("runtime/plugins/oidc_provider.ts", "clientSecret"),
  "plugins(oidc).cookie_secret": R("runtime/plugins/oidc.ts", "key"),
  "plugins(oidc).redirect_path": R("runtime/plugins/oidc.ts", "redirectPath"),
  "plugins(oidc).redirect_url": R("runtime/plugins/oidc.ts", "redirectUrl"),
  "plugins(oidc).logout_path": R("runtime/plugins/oidc.ts", "logoutPath"),
  "plugins(oidc).scopes": R("runtime/plugins/oidc.ts"),
  "plugins(oidc).cookie_name": R("runtime/plugins/oidc.ts", "cookieName"),
  "plugins(oidc).session_ttl": R("runtime/plugins/oidc.ts", "sessionTtl"),
  "plugins(oidc).claims_to_headers": R("runtime/plugins/oidc.ts", "claimsToHeaders"),
  "plugins(health).path": R("runtime/plugins/health.ts"),
  "plugins(health).upstreams": R("runtime/plugins/health.ts"),
  "plugins(health).min_healthy": R("runtime/plugins/health.ts", "minHealthy"),
  "plugins(bandwidth_limit).rate": R("runtime/plugins/bandwidth_limit.ts"),
  "plugins(bandwidth_limit).after": R("runtime/plugins/bandwidth_limit.ts"),
  "plugins(bandwidth_limit).path": R("runtime/plugins/bandwidth_limit.ts"),
  "plugins(mirror).target": R("runtime/plugins/mirror.ts", "target"),
  "plugins(mirror).percentage": R("runtime/plugins/mirror.ts", "percentage"),
  "plugins(mirror).methods": R("runtime/plugins/mirror.ts", "methods"),
  "plugins(mirror).max_body_size": R("runtime/plugins/mirror.ts", "maxBodySize"),
  "plugins(mirror).timeout": R("runtime/plugins/mirror.ts", "timeout"),
  "plugins(mirror).max_inflight": R("runtime/plugins/mirror.ts", "maxInflight"),
  "plugins(mirror).host": R("runtime/plugins/mirror.ts", "host"),
  "plugins(ip_restriction).ip_list": R("runtime/plugins/ip_restriction.ts"),
  "plugins(ip_restriction).type": R("runtime/plugins/ip_restriction.ts"),
  "plugins(ip_restriction).message": R("runtime/plugins/ip_restriction.ts"),
  "plugins(ua_restriction).ua_list": R("runtime/plugins/ua_restriction.ts"),
  "plugins(ua_restriction).type": R("runtime/plugins/ua_restriction.ts"),
  "plugins(ua_restriction).message": R("runtime/plugins/ua_restriction.ts"),
  "plugins(referer_restriction).referer_list": R("runtime/plugins/referer_restriction.ts", "suffixes"),
  "plugins(referer_restriction).type": R("runtime/plugins/referer_restriction.ts"),
  "plugins(referer_restriction).message": R("runtime/plugins/referer_restriction.ts"),
  "plugins(limit).type": R("runtime/plugins/limit.ts"),
  "plugins(limit).tag": R("runtime/plugins/limit.ts"),
  "plugins(limit).key": R("runtime/plugins/limit.ts"),
  "plugins(limit).max": R("runtime/plugins/limit.ts"),
  "plugins(limit).interval": R("runtime/plugins/limit.ts"),
  "plugins(limit).status": R("runtime/plugins/limit.ts"),
  "plugins(limit).message": R("runtime/plugins/limit.ts"),
  "plugins(limit).missing_key": R("runtime/plugins/limit.ts", "rejectMissingKey"),
  "plugins(limit).headers": R("runtime/plugins/limit.ts"),
  "plugins(geo_restriction).type": R("runtime/plugins/geo_restriction.ts"),
  "plugins(geo_restriction).country_codes": R("runtime/plugins/geo_restriction.ts"),
  "plugins(geo_restriction).message": R("runtime/plugins/geo_restriction.ts"),
  "plugins(geo_restriction).database": R("runtime/plugins/geo_restriction.ts"),
  "plugins(geo_restriction).database_refresh": R("runtime/plugins/geo_restriction.ts"),
  "plugins(geo_restriction).header": R("runtime/plugins/geo_restriction.ts"),
};

/** Every key `check` accepts where it runs: `[where, key, fields]`. */
function allKeys(): [string, string, Fields][] {
  const out: [string, string, Fields][] = [];
  for (const s of SECTIONS) for (const k of Object.keys(s.schema.fields)) out.push([s.key, k, s.schema.fields]);
  for (const k of Object.keys(PLUGIN_COMMON_FIELDS)) out.push(["plugins", k, PLUGIN_COMMON_FIELDS]);
  for (const def of PLUGINS.values()) {
    if (def.runtime !== true) continue; // refused whole: see the plugin-kind test below
    for (const k of Object.keys(def.fields)) out.push([`plugins(${def.category})`, k, def.fields]);
  }
  return out;
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("every schema key is applied (a file reads it) or declared unapplied, never both, never neither", async () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  let applied = 0, unapplied = 0;
  for (const [where, key, fields] of allKeys()) {
    const id = `${where}.${key}`;
    seen.add(id);
    const entry = APPLIED[id];
    const reason = fields[key]!.unapplied;
    if (entry && reason !== undefined) problems.push(`${id}: in APPLIED and declared unapplied ("${reason}")`);
    else if (!entry && reason === undefined) {
      problems.push(`${id}: neither applied (add it to APPLIED with the file that reads it) nor declared unapplied`);
    } else if (entry && "file" in entry) {
      applied++;
      const text = await Deno.readTextFile(new URL(entry.file, ROOT));
      const names = entry.prop ? [entry.prop] : [...new Set([key, camel(key)])];
      const re = new RegExp(`\\.(${names.map(escape).join("|")})\\b`);
      if (!re.test(text)) problems.push(`${id}: ${entry.file} does not read .${names.join(" or .")}`);
    } else if (reason !== undefined) {
      unapplied++;
      assert.ok(reason.length > 15, `${id}: say why it is not applied`);
    }
  }
  for (const id of Object.keys(APPLIED)) if (!seen.has(id)) problems.push(`${id}: in APPLIED but not a schema key`);
  assert.deepEqual(problems, []);
  console.log(`${applied} keys applied, ${unapplied} declared unapplied`);
  assert.ok(unapplied >= 20, "the known unapplied keys are declared");
});

Deno.test("every declared-unapplied key gets a not-applied warning where it is set, and none when absent", () => {
  for (const [where, key, fields] of allKeys()) {
    const reason = fields[key]!.unapplied;
    if (reason === undefined) continue;
    const schema = table({ title: where, doc: "", fields });
    const diags: Diagnostic[] = [];
    decodeTable(schema, { [key]: "anything" }, ["t"], diags);
    const warning = diags.find((d) => d.code === "not-applied");
    assert.ok(warning, `${where}.${key}: no warning`);
    assert.equal(warning.severity, "warning");
    assert.equal(formatPath(warning.path), `t.${key}`);
    assert.equal(warning.message, `Key "${key}" is accepted but not applied by this version: ${reason}`);
    const none: Diagnostic[] = [];
    decodeTable(schema, {}, ["t"], none);
    assert.ok(!none.some((d) => d.code === "not-applied"), `${where}.${key}: warned when absent (or defaulted)`);
  }
});

Deno.test("check warns at each unapplied key of a config, with its line, and still passes", () => {
  const text = `[basic]
user = "nobody"
log_compress_algorithm = "gzip"
webhook_notifications = ["reload_config", "restart", "restart_fail"]

[servers.web]
addr = "127.0.0.1:6188"
locations = ["l"]
tcp_fastopen = 10
tls_cipher_list = "HIGH"

[locations.l]
path = "/"
upstream = "u"

[upstreams.u]
addrs = ["127.0.0.1:8080"]
tcp_idle = "10s"
tcp_fast_open = true
`;
  const { plan, diagnostics } = compileSources([{ file: "a.toml", text }]);
  assert.ok(plan, JSON.stringify(diagnostics));
  const warned = diagnostics.filter((d) => d.code === "not-applied").map((d) => `${d.line} ${formatPath(d.path)}`);
  assert.deepEqual(warned.sort(), [
    "10 servers.web.tls_cipher_list",
    "19 upstreams.u.tcp_fast_open",
    "2 basic.user",
    "4 basic.webhook_notifications[1]",
    "4 basic.webhook_notifications[2]",
  ]);
  const restart = diagnostics.find((d) => formatPath(d.path) === "basic.webhook_notifications[1]")!;
  assert.match(restart.message, /^Webhook event "restart" is accepted but not applied by this version: /);
});

Deno.test("every plugin kind runs or is refused by check", () => {
  for (const [category, def] of PLUGINS) {
    const r = compileSources([{ file: "a.toml", text: `[plugins.p]\ncategory = "${category}"\n` }]);
    const refused = r.diagnostics.some((d) =>
      d.code === "not-supported" && formatPath(d.path) === "plugins.p.category"
    );
    assert.equal(refused, def.runtime !== true, category);
  }
});

Deno.test("every webhook event is sent by the runtime or declared never sent", async () => {
  const sources: string[] = [];
  for await (const file of walk(new URL("runtime/", ROOT))) sources.push(await Deno.readTextFile(file));
  const all = sources.join("\n");
  for (const event of WEBHOOK_EVENTS) {
    const sent = new RegExp(`category: "${event}"`).test(all);
    assert.equal(
      sent,
      !UNSENT_WEBHOOK_EVENTS.has(event),
      `${event}: sent by the runtime=${sent}, declared never sent=${UNSENT_WEBHOOK_EVENTS.has(event)}`,
    );
  }
  for (const event of UNSENT_WEBHOOK_EVENTS.keys()) assert.ok((WEBHOOK_EVENTS as readonly string[]).includes(event));
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* walk(url);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield url;
  }
}
