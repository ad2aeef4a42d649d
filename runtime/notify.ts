/**
 * Webhook notifications (`basic.webhook`, `webhook_type`,
 * `webhook_notifications`): Pingap's event categories, sent as POST JSON in
 * the generic, WeCom or DingTalk shape. Sending never throws and never
 * blocks the caller; failures are logged.
 *
 * @module
 */
import type { BasicConfig, WEBHOOK_EVENTS } from "../compiler/mod.ts";

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

/** The request body for a webhook type. */
export function webhookBody(type: string, n: Notification, name = "pingap"): unknown {
  const host = hostname();
  const ip = localIps();
  if (type === "wecom" || type === "dingtalk") {
    const color = n.level === "info" ? "comment" : "warning";
    const md = [
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
  return { name, level: n.level, hostname: host, ip, category: n.category, message: n.message };
}

/**
 * Creates a notifier for `[basic]`. Without `webhook`, or for a category
 * not in `webhook_notifications`, `notify` does nothing.
 */
export function createNotifier(
  basic: Partial<Pick<BasicConfig, "webhook" | "webhook_type" | "webhook_notifications" | "name">>,
  options: { timeout?: number } = {},
): Notifier {
  const url = basic.webhook;
  const enabled = new Set<string>(basic.webhook_notifications ?? []);
  const type = basic.webhook_type ?? "normal";
  return {
    async notify(n) {
      if (!url || !enabled.has(n.category)) return;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(webhookBody(type, n, basic.name ?? "pingap")),
          signal: AbortSignal.timeout(options.timeout ?? 30_000),
        });
        await res.body?.cancel();
        if (!res.ok) console.error(`webhook ${n.category}: ${url} answered ${res.status}`);
      } catch (e) {
        console.error(`webhook ${n.category}: ${(e as Error).message}`);
      }
    },
  };
}
