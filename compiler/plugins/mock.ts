/**
 * `mock`: answers with a fixed status, headers and body.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
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
    status: field(
      int({
        min: 200,
        max: 599,
        hint: "Use a final status 200–599: a 1xx is not a final answer and a status of 600 or more cannot be sent",
      }),
      {
        doc: "Response status, 200–599 (Pingap takes 100–999, but a 1xx or a 600+ status cannot be a final answer " +
          "here). A 204 or 304 answer has no body, so `data` is not sent with it.",
        default: 200,
      },
    ),
    headers: field(array(parsed("header line", headerLine)), {
      doc: 'Response headers, each `"Name:value"`.',
      default: [],
    }),
    data: field(str(), { doc: "Response body.", default: "" }),
    delay: field(duration(), { doc: "Wait this long before answering." }),
  },
  compile(config, ctx) {
    if ((config.status === 204 || config.status === 304) && config.data !== "") {
      ctx.diags.push(
        diag("not-applied", [...ctx.path, "data"], `A ${config.status} answer has no body, so "data" is not sent`, {
          severity: "warning",
          hint: "Remove data, or use a status that carries a body",
        }),
      );
    }
    return config;
  },
});
