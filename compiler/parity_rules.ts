/**
 * Pingap's rules between keys (addendum §A1.1–§A1.5): pairs set together,
 * keys that need another, and values this version refuses or only warns
 * about. Pure: decoded tables in, diagnostics out.
 *
 * @module
 */
import { diag, type Diagnostic } from "./diagnostic.ts";
import type { BasicConfig, CertificateConfig, ServerConfig, UpstreamConfig } from "./plan.ts";
import { material } from "./certificate_material.ts";
import { inspectClientCa } from "./client_ca.ts";

type Table = { readonly [key: string]: unknown };

/** Both or neither of `a` and `b`: the error sits at the one that is set. */
function pair(table: Table, path: readonly string[], a: string, b: string, message: string, diags: Diagnostic[]) {
  const hasA = table[a] !== undefined, hasB = table[b] !== undefined;
  if (hasA === hasB) return;
  const [set, missing] = hasA ? [a, b] : [b, a];
  diags.push(diag("missing-key", [...path, set], message, { hint: `Set ${missing} too, or remove ${set}` }));
}

/** The `[basic]` rules. */
export function basicRules(basic: BasicConfig, diags: Diagnostic[]): void {
  const path = ["basic"];
  pair(
    basic,
    path,
    "downstream_tls_offload_threadpools",
    "downstream_tls_offload_thread_per_pool",
    "downstream tls offload threadpools and thread per pool should be set together",
    diags,
  );
  pair(
    basic,
    path,
    "upstream_connect_offload_threadpools",
    "upstream_connect_offload_thread_per_pool",
    "upstream connect offload threadpools and thread per pool should be set together",
    diags,
  );
}

/** The rules of one `[servers.<name>]`. */
export function serverRules(name: string, server: ServerConfig, basic: BasicConfig, diags: Diagnostic[]): void {
  const path = ["servers", name];
  const tls = server.global_certificates === true;
  const hint = "Set global_certificates = true so the listener speaks TLS, or remove the key";
  if (server.tls_client_ca !== undefined && !tls) {
    diags.push(
      diag("needs-tls", [...path, "tls_client_ca"], "tls_client_ca needs a TLS listener (global_certificates = true)", {
        hint,
      }),
    );
  }
  if (server.tls_client_ca !== undefined) {
    // Inline PEM (or base64 PEM) is checked here; a file is read by `check --live` and the runtime.
    const m = material(server.tls_client_ca);
    if (m.kind === "pem") diags.push(...inspectClientCa(m.pem, [...path, "tls_client_ca"]).diagnostics);
  }
  if (server.ja4 === true && !tls) {
    diags.push(diag("needs-tls", [...path, "ja4"], "ja4 needs a TLS listener (global_certificates = true)", { hint }));
  }
  if (server.tls_client_auth !== undefined && server.tls_client_ca === undefined) {
    diags.push(
      diag("missing-key", [...path, "tls_client_auth"], "tls_client_auth needs tls_client_ca", {
        hint: "Set tls_client_ca to the CA client certificates chain to",
      }),
    );
  }
  if (server.proxy_protocol === true && (basic.trusted_proxies ?? []).length === 0) {
    diags.push(
      diag(
        "missing-key",
        [...path, "proxy_protocol"],
        `server(${name}): proxy_protocol needs basic.trusted_proxies, the addresses the header is taken from`,
        { hint: 'Set basic.trusted_proxies = ["10.0.0.0/8"] to the load balancers that send the header' },
      ),
    );
  }
}

/**
 * The rules of one `[upstreams.<name>]`; false when the upstream cannot be
 * built (an error was pushed).
 */
export function upstreamRules(name: string, upstream: UpstreamConfig, diags: Diagnostic[]): boolean {
  const path = ["upstreams", name];
  let ok = true;
  if (upstream.addrs === undefined && upstream.discovery !== "transparent") {
    diags.push(
      diag("missing-key", [...path, "addrs"], `Missing required key "addrs" in [upstreams.<name>]`, {
        hint: 'Backends, "host[:port] [weight]"; only discovery = "transparent" goes without',
      }),
    );
    ok = false;
  }
  if (upstream.discovery === "srv") {
    (upstream.addrs ?? []).forEach((a, i) => {
      if (a.port === undefined && a.weight === 1) return;
      diags.push(
        diag(
          "ignored",
          [...path, "addrs", i],
          `With discovery "srv" the port and weight of each backend come from the SRV records; ${
            JSON.stringify(a.host)
          }'s are ignored`,
          { severity: "warning", hint: 'Write the SRV name alone, e.g. "_http._tcp.api.internal"' },
        ),
      );
    });
  }
  const d = upstream.discovery;
  if (upstream.update_frequency === 0 && (d === "dns" || d === "srv" || d === "docker")) {
    diags.push(
      diag(
        "out-of-range",
        [...path, "update_frequency"],
        `update frequency should be greater than 0 for ${d} discovery`,
        {
          hint: 'e.g. "60s"',
        },
      ),
    );
    ok = false;
  }
  const before = diags.length;
  pair(upstream, path, "client_cert", "client_key", "client_cert and client_key are set together", diags);
  return ok && diags.length === before;
}

/** The rules of one `[certificates.<name>]`. */
export function certificateRules(name: string, certificate: CertificateConfig, diags: Diagnostic[]): void {
  pair(
    certificate,
    ["certificates", name],
    "acme_eab_kid",
    "acme_eab_hmac",
    "acme_eab_kid and acme_eab_hmac should be set together",
    diags,
  );
}
