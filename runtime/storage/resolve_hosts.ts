/**
 * `check --live`'s DNS step: every upstream host name must resolve (A or
 * AAAA). Docker, SRV and transparent upstreams, IP addresses and `localhost` are
 * skipped.
 *
 * @module
 */
import { diag, type Diagnostic, type Plan } from "../../compiler/mod.ts";

/** A `dns-lookup` error for each upstream host that resolves to nothing. */
export async function resolveUpstreamHosts(plan: Plan): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  await Promise.all(
    plan.upstreams.flatMap((u) =>
      u.discovery === "docker" || u.discovery === "transparent" || u.discovery === "srv"
        ? []
        : u.backends.map(async (b, i) => {
          if (b.isIp || b.host === "localhost") return;
          const results = await Promise.allSettled([Deno.resolveDns(b.host, "A"), Deno.resolveDns(b.host, "AAAA")]);
          if (results.every((r) => r.status === "rejected" || r.value.length === 0)) {
            out.push(
              diag("dns-lookup", ["upstreams", u.name, "addrs", i], `Host "${b.host}" does not resolve`, {
                hint: "Check the name, or the resolver",
              }),
            );
          }
        })
    ),
  );
  return out;
}
