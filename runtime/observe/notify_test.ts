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

/** A receiver that keeps each post whole and answers with `statuses` in turn (then 204). */
function rawReceiver(statuses: number[] = []) {
  const got: { url: URL; headers: Headers; body: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({ url: new URL(req.url), headers: req.headers, body: await req.text() });
    return new Response(null, { status: statuses.shift() ?? 204 });
  });
  return { got, url: `http://127.0.0.1:${server.addr.port}/hook`, close: () => server.shutdown() };
}

async function hmacHex(secret: string, data: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("webhook_min_level drops lower levels; webhook_headers are sent; webhook_secret signs the body", async () => {
  const r = rawReceiver();
  try {
    const n = createNotifier({
      webhook: r.url,
      webhook_notifications: ["reload_config", "reload_config_fail"],
      webhook_min_level: "warn",
      webhook_headers: [["authorization", "Bearer t0k3n"]],
      webhook_secret: "s3cret",
    });
    await n.notify({ category: "reload_config", level: "info", message: "below the level" });
    await n.notify({ category: "reload_config_fail", level: "error", message: "bad config" });
    assert.equal(r.got.length, 1);
    const post = r.got[0]!;
    assert.equal(JSON.parse(post.body).message, "bad config");
    assert.equal(post.headers.get("authorization"), "Bearer t0k3n");
    assert.equal(post.headers.get("x-pingap-signature"), `sha256=${await hmacHex("s3cret", post.body)}`);
  } finally {
    await r.close();
  }
});

Deno.test("webhook_secret signs a DingTalk post in its URL; webhook_template is the body, JSON-escaped", async () => {
  const r = rawReceiver();
  try {
    await createNotifier({
      webhook: r.url,
      webhook_type: "dingtalk",
      webhook_notifications: ["reload_config"],
      webhook_secret: "ding",
    }).notify({ category: "reload_config", level: "info", message: "x" });
    const url = r.got[0]!.url;
    const timestamp = url.searchParams.get("timestamp")!;
    const hex = await hmacHex("ding", `${timestamp}\n${"ding"}`);
    const expected = btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));
    assert.equal(url.searchParams.get("sign"), expected);
    await createNotifier({
      webhook: r.url,
      webhook_notifications: ["reload_config"],
      webhook_template: '{"text":"[{{level}}] {{ title }}: {{message}}","n":{{count}}}',
    }).notify({ category: "reload_config", level: "warn", message: 'say "hi"\nbye' });
    assert.deepEqual(JSON.parse(r.got[1]!.body), { text: '[warn] reload_config: say "hi"\nbye', n: 1 });
  } finally {
    await r.close();
  }
});

Deno.test("webhook_retries tries a 503 again, in the background, and not a 400", async () => {
  const r = rawReceiver([503, 400]);
  try {
    const n = createNotifier({ webhook: r.url, webhook_notifications: ["reload_config"], webhook_retries: 2 });
    await n.notify({ category: "reload_config", level: "info", message: "x" });
    assert.equal(r.got.length, 1);
    // The retry comes after about a second; the 400 it gets is final.
    const deadline = Date.now() + 20_000;
    while (r.got.length < 2 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(r.got.length, 2);
    await new Promise((ok) => setTimeout(ok, 2500));
    assert.equal(r.got.length, 2, "a 400 is not tried again");
  } finally {
    await r.close();
  }
});

Deno.test("webhook batching: notifications within the window are merged into one post, with {{count}}", async () => {
  const r = rawReceiver();
  try {
    const n = createNotifier({
      webhook: r.url,
      webhook_notifications: ["reload_config", "backend_status"],
      webhook_batch_window: 300,
      webhook_batch_max_events: 5,
      webhook_template: '{"count":{{count}},"category":"{{category}}","level":"{{level}}","message":"{{message}}"}',
    });
    await n.notify({ category: "reload_config", level: "info", message: "a" });
    await n.notify({ category: "backend_status", level: "warn", message: "b" });
    await n.notify({ category: "reload_config", level: "info", message: "c" });
    assert.equal(r.got.length, 0, "held for the window");
    const deadline = Date.now() + 10_000;
    while (r.got.length < 1 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    assert.equal(r.got.length, 1);
    assert.deepEqual(JSON.parse(r.got[0]!.body), {
      count: 3,
      category: "reload_config,backend_status",
      level: "warn",
      message: "1. [info] reload_config: a\n2. [warn] backend_status: b\n3. [info] reload_config: c",
    });
  } finally {
    await r.close();
  }
});

Deno.test("webhook batching: a full batch goes at once; flush() posts what is pending", async () => {
  const r = rawReceiver();
  try {
    const basic = {
      webhook: r.url,
      webhook_notifications: ["reload_config" as const],
      webhook_batch_window: 60_000,
      webhook_batch_max_events: 2,
    };
    // One notifier (a generation's), so one batch.
    const n = createNotifier(basic);
    await n.notify({ category: "reload_config", level: "info", message: "a" });
    await n.notify({ category: "reload_config", level: "info", message: "b" });
    const deadline = Date.now() + 10_000;
    while (r.got.length < 1 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(r.got.length, 1, "full at 2: posted without waiting a minute");
    assert.match(JSON.parse(r.got[0]!.body).message, /^1\. \[info\] reload_config: a\n2\. \[info\] reload_config: b$/);
    await n.notify({ category: "reload_config", level: "info", message: "last" });
    await n.flush();
    assert.equal(r.got.length, 2);
    assert.equal(JSON.parse(r.got[1]!.body).message, "last", "a batch of one is posted as it is");
  } finally {
    await r.close();
  }
});
