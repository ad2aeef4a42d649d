/**
 * dns-01 providers: something that can publish a TXT record and take it
 * away. Chosen by `dns_provider`, configured by `dns_service_url` (the
 * whole value may be `$ENV:NAME`).
 *
 * @module
 */
import type { CertificateConfig } from "../../../compiler/mod.ts";
import { aliyunProvider } from "./aliyun.ts";
import { challtestsrvProvider } from "./challtestsrv.ts";
import { cloudflareProvider } from "./cloudflare.ts";
import { huaweiProvider } from "./huawei.ts";
import { manualProvider } from "./manual.ts";
import { tencentProvider } from "./tencent.ts";
import type { ProviderOptions } from "./wait_txt.ts";

export type { ProviderOptions } from "./wait_txt.ts";

/** Publishes and removes `_acme-challenge` TXT records. */
export interface DnsProvider {
  /** The provider's name, for logs. */
  readonly name: string;
  /**
   * Publishes TXT `value` at `fqdn` (no trailing dot) and resolves once
   * the record is believed visible to the CA.
   */
  setTxt(fqdn: string, value: string): Promise<void>;
  /** Removes what {@linkcode setTxt} published. Never needed for correctness; errors are logged. */
  clearTxt(fqdn: string, value: string): Promise<void>;
}

/** `dns_service_url`, with `$ENV:NAME` read from the environment. */
export function serviceUrl(value: string | undefined): string | undefined {
  if (value?.startsWith("$ENV:")) return Deno.env.get(value.slice(5)) ?? undefined;
  return value;
}

/** The providers that talk to an API at `dns_service_url`. */
const API_PROVIDERS: Record<string, (url: string, options: ProviderOptions) => DnsProvider> = {
  cloudflare: cloudflareProvider,
  ali: aliyunProvider,
  tencent: tencentProvider,
  huawei: huaweiProvider,
  challtestsrv: (url) => challtestsrvProvider(url),
};

/**
 * The provider a certificate's config names. Throws `TypeError` for one
 * that is not implemented or lacks its `dns_service_url`.
 */
export function dnsProviderFor(
  config: Pick<CertificateConfig, "dns_provider" | "dns_service_url">,
  options: ProviderOptions = {},
): DnsProvider {
  const name = config.dns_provider ?? "manual";
  if (name === "manual") return manualProvider(options);
  const make = Object.hasOwn(API_PROVIDERS, name) ? API_PROVIDERS[name] : undefined;
  if (!make) {
    throw new TypeError(
      `dns_provider "${name}" is not implemented: use ${Object.keys(API_PROVIDERS).join(", ")} or manual`,
    );
  }
  const url = serviceUrl(config.dns_service_url);
  if (!url) throw new TypeError(`dns_provider "${name}" needs dns_service_url`);
  return make(url, options);
}
