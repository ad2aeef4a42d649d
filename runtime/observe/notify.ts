/**
 * Webhook notifications (`basic.webhook`, `webhook_type`,
 * `webhook_notifications`): Pingap's event categories, sent as POST JSON in
 * the generic, WeCom or DingTalk shape. Sending never throws and never
 * blocks the caller; failures are logged.
 *
 * @module
 */
import type { BasicConfig, WEBHOOK_EVENTS } from "../../compiler/mod.ts";

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
  /**
   * Sends a notification if its category is enabled and its level high enough; returns the promise of the first
   * try (never rejects), or, when it joins a batch, a settled one: the batch is posted later.
   */
  notify(n: Notification): Promise<void>;
  /** Posts the batch being collected, if any, without waiting for its window (at shutdown). */
  flush(): Promise<void>;
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
export function webhookBody(
  type: string,
  n: Notification | Merged,
  name = "pingap",
  template?: string,
  count = 1,
): unknown {
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
    count: String(count),
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

/** Notifications merged into one post: categories joined by commas. */
export interface Merged {
  readonly category: string;
  readonly level: NotifyLevel;
  readonly message: string;
  readonly title?: string;
}

/**
 * Folds a batch into the one notification that is posted: the highest
 * level, each category once, the common title or "N notifications", and one
 * numbered line per notification. A batch of one is posted as it is.
 *
 * @example Usage
 * ```ts
 * import { mergeNotifications } from "./notify.ts";
 * const m = mergeNotifications([
 *   { category: "reload_config", level: "info", message: "a" },
 *   { category: "backend_status", level: "warn", message: "b" },
 * ]);
 * if (m.level !== "warn" || m.message !== "1. [info] reload_config: a\n2. [warn] backend_status: b") throw new Error();
 * ```
 */
export function mergeNotifications(events: readonly Notification[]): Notification | Merged {
  if (events.length === 1) return events[0]!;
  const level = events.reduce<NotifyLevel>((l, e) => LEVELS[e.level] > LEVELS[l] ? e.level : l, "info");
  const category = [...new Set(events.map((e) => e.category))].join(",");
  const titleOf = (e: Notification) => e.title ?? e.category;
  const same = events.every((e) => titleOf(e) === titleOf(events[0]!));
  const message = events.map((e, i) =>
    `${i + 1}. [${e.level}] ${e.category}: ${!same && e.title ? `${e.title} - ` : ""}${e.message}`
  ).join("\n");
  return { category, level, message, title: same ? titleOf(events[0]!) : `${events.length} notifications` };
}

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
    | "webhook_batch_window"
    | "webhook_batch_max_events"
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
 *
 * With `webhook_batch_window` above 0 and `webhook_batch_max_events` above
 * 1 (Pingap's defaults: 10s and 5), notifications are merged: each one
 * extends the window, and the batch is posted once it has been quiet that
 * long, or at once when full ({@linkcode mergeNotifications}). A table
 * without these keys (a partial one) posts each notification alone. Each
 * call makes a notifier with its own batch: a proxy's generation owns the one
 * of its plan, and everything that reports for that plan shares it.
 */
export function createNotifier(basic: WebhookSettings, options: { timeout?: number } = {}): Notifier {
  const url = basic.webhook;
  const enabled = new Set<string>(basic.webhook_notifications ?? []);
  const type = basic.webhook_type ?? "normal";
  const minLevel = LEVELS[basic.webhook_min_level ?? "info"];
  const retries = basic.webhook_retries ?? 0;
  const secret = basic.webhook_secret;
  const window = basic.webhook_batch_window ?? 0;
  const maxEvents = basic.webhook_batch_max_events ?? 1;
  const post = async (n: Notification | Merged, attempt: number, count = 1): Promise<void> => {
    let retry = false;
    try {
      const body = webhookBody(type, n, basic.name ?? "pingap", basic.webhook_template, count);
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
      Deno.unrefTimer(setTimeout(() => void post(n, attempt + 1, count), wait));
    }
  };
  let batch: { events: Notification[]; deadline: number } | undefined;
  const postBatch = (events: Notification[]) => post(mergeNotifications(events), 0, events.length);
  const whenQuiet = (wait: number) => {
    // Unref'd: a pending batch never keeps the process up; shutdown calls flush().
    Deno.unrefTimer(setTimeout(() => {
      if (batch === undefined) return;
      const left = batch.deadline - Date.now();
      if (left > 0) return whenQuiet(left);
      const events = batch.events;
      batch = undefined;
      void postBatch(events);
    }, wait));
  };
  return {
    notify(n) {
      if (!url || !enabled.has(n.category) || LEVELS[n.level] < minLevel) return Promise.resolve();
      if (window <= 0 || maxEvents <= 1) return post(n, 0);
      if (batch === undefined) {
        batch = { events: [n], deadline: Date.now() + window };
        whenQuiet(window);
      } else {
        batch.events.push(n);
        batch.deadline = Date.now() + window;
      }
      if (batch.events.length >= maxEvents) {
        const events = batch.events;
        batch = undefined;
        void postBatch(events);
      }
      return Promise.resolve();
    },
    flush() {
      if (batch === undefined) return Promise.resolve();
      const events = batch.events;
      batch = undefined;
      return postBatch(events);
    },
  };
}
