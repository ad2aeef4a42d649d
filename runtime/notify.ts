/**
 * Webhook notifications (`basic.webhook`, `webhook_type`,
 * `webhook_notifications`): Pingap's event categories, sent as POST JSON in
 * the generic, WeCom or DingTalk shape. Sending never throws and never
 * blocks the caller; failures are logged.
 *
 * @module
 */
import type { BasicConfig } from "../compiler/plan.ts";
import type { WEBHOOK_EVENTS } from "../compiler/schema/basic.ts";

/** An event category. */
export type NotifyCategory = typeof WEBHOOK_EVENTS[number];

/** Severity of a notification. */
export type NotifyLevel = "info" | "warn" | "error";

/** One notification. */
export interface Notification {
  readonly category: NotifyCategory;
  readonly level: NotifyLevel;
  readonly message: string;
  /** Optional title (defaults to the category). */
  readonly title?: string;
}

/** Sends notifications per `[basic]`. */
export interface Notifier {
  /** Queues a notification if its category is enabled; returns the send promise (never rejects). */
  notify(n: Notification): Promise<void>;
}

function localIps(): string {
  try {
    return Deno.networkInterfaces().filter((i) =>
      !i.address.startsWith("127.") && i.address !== "::1" && i.family === "IPv4"
    )
      .map((i) => i.address).join(";");
  } catch {
    return "";
  }
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

/** Fills `{{key}}` (spaces inside the braces allowed); `escape` is applied to each value. */
function fillTemplate(template: string, values: Record<string, string>, escape: (s: string) => string): string {
  return template.replace(
    /\{\{\s*([a-z]+)\s*\}\}/g,
    (all, key: string) => Object.hasOwn(values, key) ? escape(values[key]!) : all,
  );
}

/**
 * The request body for a webhook type: JSON for the generic type, markdown
 * for WeCom and DingTalk. With `template` (`basic.webhook_template`) the
 * markdown is the template filled, and for the generic type the whole body
 * is (values JSON-escaped), sent as a string.
 */
export function webhookBody(type: string, n: Notification, name = "pingap", template?: string): unknown {
  const host = hostname();
  const ip = localIps();
  const values = {
    title: n.title ?? n.category,
    message: n.message,
    level: n.level,
    category: n.category,
    hostname: host,
    ip,
    name,
    count: "1",
  };
  if (type === "wecom" || type === "dingtalk") {
    const color = n.level === "info" ? "comment" : "warning";
    const md = template !== undefined ? fillTemplate(template, values, (v) => v) : [
      `### ${name}(<font color="${color}">${n.level}</font>)`,
      `>title: ${n.title ?? n.category}`,
      `>hostname: ${host}`,
      `>ip: ${ip}`,
      `>category: ${n.category}`,
      `>message: ${n.message}`,
    ].join("\n");
    return type === "wecom"
      ? { msgtype: "markdown", markdown: { content: md } }
      : { msgtype: "markdown", markdown: { title: n.category, text: md } };
  }
  if (template !== undefined) return fillTemplate(template, values, (v) => JSON.stringify(v).slice(1, -1));
  return { name, level: n.level, hostname: host, ip, category: n.category, message: n.message };
}

const LEVELS = { info: 0, warn: 1, error: 2 } as const;

async function hmac(secret: string, data: string): Promise<Uint8Array> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
}

/** The webhook keys of `[basic]` a notifier reads. */
export type WebhookSettings = Partial<
  Pick<
    BasicConfig,
    | "webhook"
    | "webhook_type"
    | "webhook_notifications"
    | "name"
    | "webhook_min_level"
    | "webhook_headers"
    | "webhook_secret"
    | "webhook_template"
    | "webhook_retries"
  >
>;

/**
 * Creates a notifier for `[basic]`. Without `webhook`, for a category not
 * in `webhook_notifications`, or below `webhook_min_level`, `notify` does
 * nothing. `webhook_headers` are added to each post; `webhook_secret`
 * signs it (DingTalk: `timestamp` and `sign` in the URL; WeCom: nothing;
 * others: `X-Pingap-Signature: sha256=<hex HMAC of the body>`). A post not
 * answered, or answered 5xx or 429, is tried again up to `webhook_retries`
 * times, after 1 s, 2 s, 4 s… (at most 5 min), in the background: the
 * returned promise settles after the first try.
 */
export function createNotifier(basic: WebhookSettings, options: { timeout?: number } = {}): Notifier {
  const url = basic.webhook;
  const enabled = new Set<string>(basic.webhook_notifications ?? []);
  const type = basic.webhook_type ?? "normal";
  const minLevel = LEVELS[basic.webhook_min_level ?? "info"];
  const retries = basic.webhook_retries ?? 0;
  const secret = basic.webhook_secret;
  const post = async (n: Notification, attempt: number): Promise<void> => {
    let retry = false;
    try {
      const body = webhookBody(type, n, basic.name ?? "pingap", basic.webhook_template);
      const text = typeof body === "string" ? body : JSON.stringify(body);
      const headers = new Headers({ "content-type": "application/json" });
      for (const [name, value] of basic.webhook_headers ?? []) headers.set(name, value);
      let target = url!;
      if (secret !== undefined && type === "dingtalk") {
        const timestamp = String(Date.now());
        const sign = btoa(String.fromCharCode(...await hmac(secret, `${timestamp}\n${secret}`)));
        const u = new URL(target);
        u.searchParams.set("timestamp", timestamp);
        u.searchParams.set("sign", sign);
        target = u.href;
      } else if (secret !== undefined && type !== "wecom") {
        const hex = [...await hmac(secret, text)].map((b) => b.toString(16).padStart(2, "0")).join("");
        headers.set("x-pingap-signature", `sha256=${hex}`);
      }
      const res = await fetch(target, {
        method: "POST",
        headers,
        body: text,
        signal: AbortSignal.timeout(options.timeout ?? 30_000),
      });
      await res.body?.cancel();
      if (!res.ok) {
        console.error(`webhook ${n.category}: ${url} answered ${res.status}`);
        retry = res.status >= 500 || res.status === 429;
      }
    } catch (e) {
      console.error(`webhook ${n.category}: ${(e as Error).message}`);
      retry = true;
    }
    if (retry && attempt < retries) {
      const wait = Math.min(1000 * 2 ** attempt, 300_000);
      // In the background, and never keeping the process alive.
      Deno.unrefTimer(setTimeout(() => void post(n, attempt + 1), wait));
    }
  };
  return {
    notify(n) {
      if (!url || !enabled.has(n.category) || LEVELS[n.level] < minLevel) return Promise.resolve();
      return post(n, 0);
    },
  };
}
