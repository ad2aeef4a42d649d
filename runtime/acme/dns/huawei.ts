/**
 * Huawei Cloud DNS (`dns_provider = "huawei"`) as a dns-01 provider, over
 * its documented v2 API at
 * `dns_service_url = "https://dns.<region>.myhuaweicloud.com?access_key_id=<AK>&access_key_secret=<SK>"`:
 * `GET /v2/zones?name=&type=public` (each suffix of the name, longest
 * first) finds the zone, `POST /v2/zones/<zone>/recordsets` creates the
 * TXT record set, `DELETE /v2/zones/<zone>/recordsets/<id>` removes it.
 * Requests are signed with AK/SK SDK-HMAC-SHA256 as the API Gateway
 * signing guide describes (https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-002.html
 * and the pages after it): canonical URI ending in `/`, sorted encoded
 * query, signed `content-type;host;x-sdk-date`, hex SHA-256 of the body.
 *
 * @module
 */
import type { DnsProvider } from "./provider.ts";
import { accessKeyOf, hmac, rfc3986, sha256Hex, toHex, zoneCandidates } from "./signing.ts";
import { type ProviderOptions, waitForTxt } from "./wait_txt.ts";
import { PublishedRecords } from "./published.ts";

/** What an SDK-HMAC-SHA256 signature covers. */
export interface HuaweiRequest {
  readonly method: string;
  /** Path without the query (the canonical form gets its trailing `/`). */
  readonly path: string;
  /** Query parameters, any order. */
  readonly query: readonly (readonly [string, string])[];
  /** Headers to sign, lower-case names (`host`, `x-sdk-date`, `content-type`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The sorted, encoded query string (`a=1&b=2`), as sent and as signed. */
export function huaweiQuery(query: HuaweiRequest["query"]): string {
  return query.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).sort().join("&");
}

/** The canonical request of Huawei's signing guide. */
export async function huaweiCanonicalRequest(r: HuaweiRequest): Promise<string> {
  const uri = r.path.split("/").map((s) => rfc3986(decodeURIComponent(s))).join("/");
  const names = Object.keys(r.headers).sort();
  const headers = names.map((n) => `${n}:${r.headers[n]!.trim()}\n`).join("");
  return [
    r.method,
    uri.endsWith("/") ? uri : `${uri}/`,
    huaweiQuery(r.query),
    headers,
    names.join(";"),
    await sha256Hex(r.body),
  ].join("\n");
}

/** The `Authorization` header for `r`, signed with `sk`; `r.headers["x-sdk-date"]` is the request time. */
export async function huaweiAuthorization(r: HuaweiRequest, ak: string, sk: string): Promise<string> {
  const hashed = await sha256Hex(await huaweiCanonicalRequest(r));
  const signature = toHex(await hmac("SHA-256", sk, `SDK-HMAC-SHA256\n${r.headers["x-sdk-date"]}\n${hashed}`));
  return `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${
    Object.keys(r.headers).sort().join(";")
  }, Signature=${signature}`;
}

/** A provider for Huawei Cloud DNS at `serviceUrl`. */
export function huaweiProvider(serviceUrl: string, options: ProviderOptions = {}): DnsProvider {
  const key = accessKeyOf(serviceUrl, "huawei");
  const records = new PublishedRecords<{ zone: string; id: string }>();

  async function call<T>(method: string, path: string, query: HuaweiRequest["query"] = [], body?: unknown): Promise<T> {
    const date = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const headers = { "content-type": "application/json", host: key.host, "x-sdk-date": date };
    const text = body === undefined ? "" : JSON.stringify(body);
    const auth = await huaweiAuthorization({ method, path, query, headers, body: text }, key.id, key.secret);
    const qs = huaweiQuery(query);
    const res = await fetch(`${key.origin}${path}${qs ? `?${qs}` : ""}`, {
      method,
      headers: { authorization: auth, "content-type": headers["content-type"], "x-sdk-date": date },
      ...(text ? { body: text } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = await res.json().catch(() => ({})) as T & Record<string, string | undefined>;
    if (!res.ok) {
      const code = answer.code ?? answer.error_code;
      const why = code ? `: ${code} ${answer.message ?? answer.error_msg ?? ""}` : "";
      throw new Error(`huawei ${method} ${path}: HTTP ${res.status}${why}`);
    }
    return answer;
  }

  async function zoneOf(fqdn: string): Promise<string> {
    for (const name of zoneCandidates(fqdn)) {
      const found = await call<{ zones?: { id: string; name: string }[] }>("GET", "/v2/zones", [
        ["name", name],
        ["type", "public"],
      ]);
      const zone = found.zones?.find((z) => z.name === `${name}.`);
      if (zone) return zone.id;
    }
    throw new Error(`huawei: no public zone of this account holds ${fqdn}`);
  }

  return {
    name: "huawei",
    async setTxt(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const set = await call<{ id?: string }>("POST", `/v2/zones/${zone}/recordsets`, [], {
        name: `${fqdn}.`,
        type: "TXT",
        ttl: 300,
        records: [`"${value}"`],
      });
      if (!set.id) throw new Error("huawei: no record set id in the answer");
      records.add(fqdn, value, { zone, id: set.id });
      await waitForTxt(fqdn, value, options);
    },
    async clearTxt(fqdn, value) {
      const rec = records.take(fqdn, value);
      if (!rec) return;
      await call("DELETE", `/v2/zones/${rec.zone}/recordsets/${rec.id}`);
    },
  };
}
