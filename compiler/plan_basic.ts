/**
 * `[basic]`: decoded (defaults filled, durations in ms), then checked as a
 * whole: the shutdown timer, Pingap's rules, webhook events never sent.
 *
 * @module
 */
import { resolveItem } from "./config_refs.ts";
import { diag } from "./diagnostic.ts";
import { basicRules } from "./parity_rules.ts";
import type { BasicConfig } from "./plan.ts";
import type { BuildContext } from "./plan_sections.ts";
import { basicSchema, UNSENT_WEBHOOK_EVENTS } from "./schema/basic.ts";
import { decodeTable, isTable, notApplied } from "./schema/types.ts";
import { MAX_TIMER_MS } from "./units.ts";

/** The `[basic]` of a config (its defaults when absent or invalid, the errors reported). */
export function compileBasic(ctx: BuildContext): BasicConfig {
  const { raw, diags, refs } = ctx;
  const rawBasic = isTable(raw.basic) ? resolveItem(raw.basic, basicSchema.fields, ["basic"], refs, diags) : raw.basic;
  const basic = decodeTable(basicSchema, rawBasic ?? {}, ["basic"], diags) ??
    decodeTable(basicSchema, {}, ["basic"], [])!;
  // The final shutdown step waits grace_period + graceful_shutdown_timeout in one timer.
  if (basic.grace_period + basic.graceful_shutdown_timeout > MAX_TIMER_MS) {
    diags.push(
      diag(
        "out-of-range",
        ["basic", "graceful_shutdown_timeout"],
        "grace_period + graceful_shutdown_timeout is longer than the longest a timer can hold (about 24.8 days)",
        { hint: "Shorten one of them: together at most 24d" },
      ),
    );
  }
  basicRules(basic, diags);
  (basic.webhook_notifications ?? []).forEach((event, i) => {
    const reason = UNSENT_WEBHOOK_EVENTS.get(event);
    if (reason) diags.push(notApplied(["basic", "webhook_notifications", i], `Webhook event "${event}"`, reason));
  });
  return basic;
}
