/**
 * Tencent Cloud DNSPod (`dns_provider = "tencent"`) as a dns-01 provider,
 * over its documented API 3.0 (version 2021-03-23) at
 * `dns_service_url = "https://dnspod.tencentcloudapi.com?access_key_id=<SecretId>&access_key_secret=<SecretKey>"`:
 * `DescribeDomainList` (Keyword = each suffix of the name, longest first)
 * finds the domain the account holds, `CreateRecord` creates the TXT
 * record on the default line, `DeleteRecord` removes it. Each request is a
 * JSON POST signed with TC3-HMAC-SHA256
 * (https://intl.cloud.tencent.com/document/api/1021/34193, "Signature Algorithm v3").
 *
 * @module
 */
import type { DnsProvider } from "./provider.ts";
import { accessKeyOf, hmac, hostInZone, sha256Hex, toHex, zoneCandidates } from "./signing.ts";
import { type ProviderOptions, waitForTxt } from "./wait_txt.ts";
import { PublishedRecords } from "./published.ts";

const CONTENT_TYPE = "application/json; charset=utf-8";

/** What a TC3-HMAC-SHA256 signature covers. */
export interface Tc3Request {
  readonly secretId: string;
  readonly secretKey: string;
  /** The `Host` header. */
  readonly host: string;
  /** Service name in the credential scope (`dnspod`). */
  readonly service: string;
  /** The JSON body. */
  readonly payload: string;
  /** Unix seconds, also sent as `X-TC-Timestamp`. */
  readonly timestamp: number;
}

/** The `Authorization` header of a JSON POST to `/` (signed headers `content-type;host`). */
export async function tc3Authorization(r: Tc3Request): Promise<string> {
  const date = new Date(r.timestamp * 1000).toISOString().slice(0, 10);
  const canonical = `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${r.host}\n\ncontent-type;host\n${await sha256Hex(
    r.payload,
  )}`;
  const scope = `${date}/${r.service}/tc3_request`;
  const stringToSign = `TC3-HMAC-SHA256\n${r.timestamp}\n${scope}\n${await sha256Hex(canonical)}`;
  const kDate = await hmac("SHA-256", `TC3${r.secretKey}`, date);
  const kService = await hmac("SHA-256", kDate, r.service);
  const kSigning = await hmac("SHA-256", kService, "tc3_request");
  const signature = toHex(await hmac("SHA-256", kSigning, stringToSign));
  return `TC3-HMAC-SHA256 Credential=${r.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`;
}

interface TcAnswer {
  Response?: { Error?: { Code?: string; Message?: string }; RecordId?: number; DomainList?: { Name?: string }[] };
}

/** A provider for Tencent Cloud DNSPod at `serviceUrl`. */
export function tencentProvider(serviceUrl: string, options: ProviderOptions = {}): DnsProvider {
  const key = accessKeyOf(serviceUrl, "tencent");
  const records = new PublishedRecords<{ zone: string; id: number }>();

  async function call(action: string, body: Record<string, unknown>, notFoundIsEmpty = false) {
    const payload = JSON.stringify(body);
    const timestamp = Math.floor(Date.now() / 1000);
    const auth = await tc3Authorization({
      secretId: key.id,
      secretKey: key.secret,
      host: key.host,
      service: "dnspod",
      payload,
      timestamp,
    });
    const res = await fetch(`${key.origin}/`, {
      method: "POST",
      headers: {
        authorization: auth,
        "content-type": CONTENT_TYPE,
        "x-tc-action": action,
        "x-tc-version": "2021-03-23",
        "x-tc-timestamp": String(timestamp),
      },
      body: payload,
      signal: AbortSignal.timeout(30_000),
    });
    const answer = await res.json().catch(() => ({})) as TcAnswer;
    const err = answer.Response?.Error;
    if (notFoundIsEmpty && err?.Code?.startsWith("ResourceNotFound")) return {};
    if (!res.ok || err || !answer.Response) {
      throw new Error(`tencent ${action}: HTTP ${res.status}${err ? `: ${err.Code} ${err.Message ?? ""}` : ""}`);
    }
    return answer.Response;
  }

  async function zoneOf(fqdn: string): Promise<string> {
    for (const name of zoneCandidates(fqdn)) {
      const found = await call("DescribeDomainList", { Keyword: name }, true);
      if (found.DomainList?.some((d) => d.Name === name)) return name;
    }
    throw new Error(`tencent: no domain of this account holds ${fqdn}`);
  }

  return {
    name: "tencent",
    async setTxt(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const created = await call("CreateRecord", {
        Domain: zone,
        SubDomain: hostInZone(fqdn, zone),
        RecordType: "TXT",
        RecordLine: "默认",
        Value: value,
        TTL: 600,
      });
      if (created.RecordId === undefined) throw new Error("tencent CreateRecord: no RecordId in the answer");
      records.add(fqdn, value, { zone, id: created.RecordId });
      await waitForTxt(fqdn, value, options);
    },
    async clearTxt(fqdn, value) {
      const rec = records.take(fqdn, value);
      if (!rec) return;
      await call("DeleteRecord", { Domain: rec.zone, RecordId: rec.id });
    },
  };
}
