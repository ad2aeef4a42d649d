/**
 * dns-01 providers: something that can publish a TXT record and take it
 * away. Chosen by `dns_provider`, configured by `dns_service_url` (the
 * whole value may be `$ENV:NAME`).
 *
 * @module
 */
import type { CertificateConfig } from "../../../compiler/plan.ts";
import { aliyunProvider } from "./aliyun.ts";
import { challtestsrvProvider } from "./challtestsrv.ts";
import { cloudflareProvider } from "./cloudflare.ts";
import { manualProvider } from "./manual.ts";
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

/**
 * The provider a certificate's config names. Throws `TypeError` for one
 * that is not implemented or lacks its `dns_service_url`.
 */
export function dnsProviderFor(
  config: Pick<CertificateConfig, "dns_provider" | "dns_service_url">,
  options: ProviderOptions = {},
): DnsProvider {
  const url = serviceUrl(config.dns_service_url);
  switch (config.dns_provider) {
    case "manual":
      return manualProvider(options);
    case "cloudflare":
    case "challtestsrv":
      if (!url) throw new TypeError(`dns_provider "${config.dns_provider}" needs dns_service_url`);
      return config.dns_provider === "cloudflare" ? cloudflareProvider(url, options) : challtestsrvProvider(url);
    case "ali":
      if (!url) throw new TypeError(`dns_provider "${config.dns_provider}" needs dns_service_url`);
      return aliyunProvider(url, options);
    default:
      throw new TypeError(
        `dns_provider "${config.dns_provider}" is not implemented: use cloudflare, ali, manual or challtestsrv`,
      );
  }
}
