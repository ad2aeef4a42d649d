/**
 * An ACME certificate the TLS store refuses: the one served before stays, and `onRefused` gets the reason, which the
 * CLI sends as `parse_certificate_fail` (here through a real notifier to a real local receiver).
 */
import assert from "node:assert/strict";
import { CertStore } from "../tls/mod.ts";
import { createNotifier } from "../observe/notify.ts";
import { handOverCertificate } from "./handoff.ts";

Deno.test("handOverCertificate(): a refused certificate goes to onRefused, sent as parse_certificate_fail", async () => {
  const got = Promise.withResolvers<Record<string, string>>();
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.resolve(await req.json());
    return new Response(null, { status: 204 });
  });
  const notifier = createNotifier({
    webhook: `http://127.0.0.1:${receiver.addr.port}/hook`,
    webhook_notifications: ["parse_certificate_fail"],
    webhook_batch_window: 0,
  });
  const store = new CertStore();
  const refused: string[] = [];
  try {
    handOverCertificate(store, "site", {
      cert: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
      key: "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
      domains: ["site.test"],
      notAfter: Date.now() + 86_400_000,
      isDefault: false,
    }, {
      quiet: true,
      onRefused(message) {
        refused.push(message);
        void notifier.notify({ category: "parse_certificate_fail", level: "error", message });
      },
    });
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /^acme: "site": the TLS store refused the certificate: /);
    assert.equal(store.list().length, 0, "nothing installed");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = await Promise.race([
      got.promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("no webhook within 5 s")), 5000)),
    ]).finally(() => clearTimeout(timer));
    assert.equal(body.category, "parse_certificate_fail");
    assert.equal(body.message, refused[0]);
  } finally {
    await notifier.flush();
    await receiver.shutdown();
  }
});
