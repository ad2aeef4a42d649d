import assert from "node:assert/strict";
import { maskItem, maskTree, SECRET_PLACEHOLDER as P, unmaskItem } from "./secrets.ts";

Deno.test("secrets: keys, storage values, Authorization lines and URL credentials are masked", () => {
  const tree = maskTree({
    basic: { webhook: "https://qyapi.example/send?key=abc&x=1", name: "p" },
    certificates: { c: { tls_cert: "CERT", tls_key: "KEY" } },
    storages: { s: { category: "secret", value: "v" }, f: { category: "config", value: "addrs = []" } },
    upstreams: { u: { addrs: ["127.0.0.1:1"], client_key: "K" } },
    locations: { l: { proxy_set_headers: ["X-A:1", "Authorization: Bearer t"] } },
    plugins: { c: { category: "csrf", key: "k", token_path: "/t" }, j: { category: "jwt", secret: "s" } },
    servers: { w: { prometheus_metrics: "http://u:pw@push:9091/metrics?interval=5s" } },
  });
  assert.deepEqual(tree, {
    basic: { webhook: `https://qyapi.example/send?key=${P}&x=1`, name: "p" },
    certificates: { c: { tls_cert: "CERT", tls_key: P } },
    storages: { s: { category: "secret", value: P }, f: { category: "config", value: "addrs = []" } },
    upstreams: { u: { addrs: ["127.0.0.1:1"], client_key: P } },
    locations: { l: { proxy_set_headers: ["X-A:1", P] } },
    plugins: { c: { category: "csrf", key: P, token_path: "/t" }, j: { category: "jwt", secret: P } },
    servers: { w: { prometheus_metrics: `http://u:${P}@push:9091/metrics?interval=5s` } },
  });
});

Deno.test("secrets: what was read, sent back, keeps the stored values; a placeholder with nothing stored is refused", () => {
  const stored = {
    authorizations: ["YTpi", "Yzpk"],
    webhook: "https://h/x?token=t1",
    proxy_set_headers: ["Authorization: Bearer t", "X-A:1"],
  };
  const shown = maskItem("plugins", stored);
  assert.deepEqual(unmaskItem("plugins", shown, stored), stored);
  // One account kept, one added; a header added after the masked one.
  assert.deepEqual(
    unmaskItem("plugins", { ...shown, authorizations: [P, "ZTpm"], proxy_set_headers: [P, "X-A:2"] }, stored),
    { ...stored, authorizations: ["YTpi", "ZTpm"], proxy_set_headers: ["Authorization: Bearer t", "X-A:2"] },
  );
  assert.deepEqual(unmaskItem("plugins", { secret: P }, undefined), { missing: "secret" });
  assert.deepEqual(unmaskItem("plugins", { authorizations: [P, P, P] }, stored), { missing: "authorizations[2]" });
});
