import assert from "node:assert/strict";
import { createNotifier } from "./notify.ts";

function receiver() {
  const got: { body: Record<string, unknown>; type: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({ body: await req.json(), type: req.headers.get("content-type") });
    return new Response(null, { status: 204 });
  });
  return { got, url: `http://127.0.0.1:${server.addr.port}/hook`, close: () => server.shutdown() };
}

Deno.test("createNotifier() posts enabled categories to a real receiver, in the generic shape", async () => {
  const r = receiver();
  try {
    const n = createNotifier({ webhook: r.url, webhook_type: "normal", webhook_notifications: ["reload_config"] });
    await n.notify({ category: "reload_config", level: "info", message: "Locations(a) are modified" });
    await n.notify({ category: "backend_status", level: "warn", message: "not enabled" });
    assert.equal(r.got.length, 1);
    assert.equal(r.got[0]!.type, "application/json");
    assert.equal(r.got[0]!.body.category, "reload_config");
    assert.equal(r.got[0]!.body.message, "Locations(a) are modified");
    assert.equal(r.got[0]!.body.level, "info");
    assert.equal(r.got[0]!.body.name, "pingap");
    // basic.name names the instance.
    await createNotifier({ name: "edge-1", webhook: r.url, webhook_notifications: ["reload_config"] })
      .notify({ category: "reload_config", level: "info", message: "x" });
    assert.equal(r.got[1]!.body.name, "edge-1");
  } finally {
    await r.close();
  }
});

Deno.test("createNotifier() sends WeCom and DingTalk markdown", async () => {
  const r = receiver();
  try {
    for (const type of ["wecom", "dingtalk"] as const) {
      await createNotifier({ webhook: r.url, webhook_type: type, webhook_notifications: ["reload_config_fail"] })
        .notify({ category: "reload_config_fail", level: "error", message: "bad config" });
    }
    const [wecom, ding] = r.got.map((g) => g.body as { msgtype: string; markdown: Record<string, string> });
    assert.equal(wecom!.msgtype, "markdown");
    assert.match(wecom!.markdown.content!, /message: bad config/);
    assert.equal(ding!.markdown.title, "reload_config_fail");
    assert.match(ding!.markdown.text!, /category: reload_config_fail/);
  } finally {
    await r.close();
  }
});

Deno.test("createNotifier() never throws when the receiver is down", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const n = createNotifier({ webhook: `http://127.0.0.1:${port}/`, webhook_notifications: ["restart"] }, {
    timeout: 2000,
  });
  await n.notify({ category: "restart", level: "info", message: "x" });
});
