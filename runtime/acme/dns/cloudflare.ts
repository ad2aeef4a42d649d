/**
 * Cloudflare as a dns-01 provider, over its documented v4 API:
 * `GET /zones?name=` finds the zone (the longest suffix of the name that
 * is one), `POST /zones/<zone>/dns_records` creates the TXT record,
 * `DELETE /zones/<zone>/dns_records/<id>` removes it; the token is sent as
 * `Authorization: Bearer`. `dns_service_url` is Pingap's form,
 * `https://api.cloudflare.com?token=<API token>` (the path defaults to
 * `/client/v4`). After creating, the DNS is polled until the record shows.
 *
 * @module
 */
import type { DnsProvider } from "./provider.ts";
import { type ProviderOptions, waitForTxt } from "./wait_txt.ts";
import { PublishedRecords } from "./published.ts";
import { zoneCandidates } from "./signing.ts";

interface CfAnswer<T> {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: T;
}

/** A provider for the Cloudflare API at `serviceUrl`. */
export function cloudflareProvider(serviceUrl: string, options: ProviderOptions = {}): DnsProvider {
  const u = new URL(serviceUrl);
  const token = u.searchParams.get("token") ?? "";
  if (!token) throw new TypeError("dns_service_url for cloudflare needs ?token=<API token>");
  const api = `${u.origin}${u.pathname === "/" ? "/client/v4" : u.pathname.replace(/\/+$/, "")}`;
  const records = new PublishedRecords<{ zone: string; id: string }>();

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = await res.json().catch(() => ({})) as CfAnswer<T>;
    if (!res.ok || answer.success === false || answer.result === undefined) {
      const why = answer.errors?.map((e) => `${e.code ?? ""} ${e.message ?? ""}`.trim()).join("; ");
      throw new Error(`cloudflare ${method} ${path}: HTTP ${res.status}${why ? `: ${why}` : ""}`);
    }
    return answer.result;
  }

  async function zoneOf(fqdn: string): Promise<string> {
    for (const name of zoneCandidates(fqdn)) {
      const zones = await call<{ id: string; name: string }[]>("GET", `/zones?name=${encodeURIComponent(name)}`);
      if (zones[0]?.id) return zones[0].id;
    }
    throw new Error(`cloudflare: no zone of this token holds ${fqdn}`);
  }

  return {
    name: "cloudflare",
    async setTxt(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const rec = await call<{ id: string }>("POST", `/zones/${zone}/dns_records`, {
        type: "TXT",
        name: fqdn,
        content: value,
        ttl: 60,
      });
      records.add(fqdn, value, { zone, id: rec.id });
      await waitForTxt(fqdn, value, options);
    },
    async clearTxt(fqdn, value) {
      const rec = records.take(fqdn, value);
      if (!rec) return;
      await call("DELETE", `/zones/${rec.zone}/dns_records/${rec.id}`);
    },
  };
}
