/**
 * pebble-challtestsrv's management API as a DNS provider, for tests with
 * Pebble: `POST /set-txt {"host","value"}` and `POST /clear-txt {"host"}`
 * (`dns_service_url = "http://127.0.0.1:8055"`). Its DNS server answers at
 * once, so nothing is polled.
 *
 * @module
 */
import type { DnsProvider } from "./provider.ts";

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`challtestsrv ${url} answered ${res.status}: ${text.slice(0, 200)}`);
}

/** A provider over challtestsrv's management API at `base`. */
export function challtestsrvProvider(base: string): DnsProvider {
  const root = base.replace(/\/+$/, "");
  return {
    name: "challtestsrv",
    setTxt: (fqdn, value) => post(`${root}/set-txt`, { host: `${fqdn}.`, value }),
    clearTxt: (fqdn) => post(`${root}/clear-txt`, { host: `${fqdn}.` }),
  };
}
