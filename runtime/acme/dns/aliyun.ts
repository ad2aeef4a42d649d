/**
 * Alibaba Cloud DNS (`dns_provider = "ali"` or `"aliyun"`) as a dns-01
 * provider, over its documented RPC API (version 2015-01-09) at
 * `dns_service_url = "https://alidns.aliyuncs.com?access_key_id=<id>&access_key_secret=<secret>"`:
 * `DescribeDomains` (KeyWord = each suffix of the name, longest first)
 * finds the domain the account holds, `AddDomainRecord` creates the TXT
 * record, `DeleteDomainRecord` removes it. Requests are signed with
 * signature method V2: HMAC-SHA1 over `GET&%2F&` and the percent-encoded,
 * sorted query, keyed by `<secret>&`
 * (https://www.alibabacloud.com/help/en/sdk/product-overview/rpc-mechanism).
 *
 * @module
 */
import type { DnsProvider } from "./provider.ts";
import { accessKeyOf, base64, hmac, hostInZone, rfc3986, zoneCandidates } from "./signing.ts";
import { type ProviderOptions, waitForTxt } from "./wait_txt.ts";
import { PublishedRecords } from "./published.ts";

/** The canonicalized query: parameters sorted by name, each `name=value` percent-encoded, joined by `&`. */
export function aliyunCanonicalQuery(params: Record<string, string>): string {
  return Object.keys(params).sort().map((k) => `${rfc3986(k)}=${rfc3986(params[k]!)}`).join("&");
}

/** The `Signature` of a GET request with these parameters (all but `Signature` itself). */
export async function aliyunSignature(params: Record<string, string>, secret: string): Promise<string> {
  const stringToSign = `GET&${rfc3986("/")}&${rfc3986(aliyunCanonicalQuery(params))}`;
  return base64(await hmac("SHA-1", `${secret}&`, stringToSign));
}

/** A provider for Alibaba Cloud DNS at `serviceUrl`. */
export function aliyunProvider(serviceUrl: string, options: ProviderOptions = {}): DnsProvider {
  const key = accessKeyOf(serviceUrl, "ali");
  const records = new PublishedRecords<string>();

  async function call<T>(action: string, args: Record<string, string>): Promise<T> {
    const params: Record<string, string> = {
      ...args,
      Action: action,
      Format: "JSON",
      Version: "2015-01-09",
      AccessKeyId: key.id,
      SignatureMethod: "HMAC-SHA1",
      SignatureVersion: "1.0",
      SignatureNonce: crypto.randomUUID(),
      Timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    const signature = await aliyunSignature(params, key.secret);
    const url = `${key.origin}/?${aliyunCanonicalQuery(params)}&Signature=${rfc3986(signature)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const answer = await res.json().catch(() => ({})) as T & { Code?: string; Message?: string };
    if (!res.ok || answer.Code) {
      throw new Error(
        `ali ${action}: HTTP ${res.status}${answer.Code ? `: ${answer.Code} ${answer.Message ?? ""}` : ""}`,
      );
    }
    return answer;
  }

  async function zoneOf(fqdn: string): Promise<string> {
    for (const name of zoneCandidates(fqdn)) {
      const found = await call<{ Domains?: { Domain?: { DomainName?: string }[] } }>("DescribeDomains", {
        KeyWord: name,
        PageSize: "100",
      });
      if (found.Domains?.Domain?.some((d) => d.DomainName === name)) return name;
    }
    throw new Error(`ali: no domain of this account holds ${fqdn}`);
  }

  return {
    name: "ali",
    async setTxt(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const added = await call<{ RecordId?: string }>("AddDomainRecord", {
        DomainName: zone,
        RR: hostInZone(fqdn, zone),
        Type: "TXT",
        Value: value,
        TTL: "600",
      });
      if (!added.RecordId) throw new Error(`ali AddDomainRecord: no RecordId in the answer`);
      records.add(fqdn, value, added.RecordId);
      await waitForTxt(fqdn, value, options);
    },
    async clearTxt(fqdn, value) {
      const id = records.take(fqdn, value);
      if (!id) return;
      await call("DeleteDomainRecord", { RecordId: id });
    },
  };
}
