/**
 * `mock`: answers with a fixed status, headers and body.
 *
 * @module
 */
import { array, duration, field, int, parsed, str } from "../schema/types.ts";
import { headerLine } from "../values/header.ts";
import { definePlugin } from "./define.ts";

/** The `mock` plugin. */
export const mock = definePlugin({
  category: "mock",
  runtime: true,
  doc: "Answers with a fixed response (status, headers, body), optionally after a delay, without calling the upstream.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  fields: {
    path: field(str(), { doc: "Exact request path to answer. Empty answers every request.", default: "" }),
    status: field(int({ min: 100, max: 999 }), { doc: "Response status.", default: 200 }),
    headers: field(array(parsed("header line", headerLine)), {
      doc: 'Response headers, each `"Name:value"`.',
      default: [],
    }),
    data: field(str(), { doc: "Response body.", default: "" }),
    delay: field(duration(), { doc: "Wait this long before answering." }),
  },
});
