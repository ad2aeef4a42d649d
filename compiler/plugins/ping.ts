/**
 * `ping`: answers `200 pong` on one exact path.
 *
 * @module
 */
import { field, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** The `ping` plugin. */
export const ping = definePlugin({
  category: "ping",
  runtime: true,
  doc: "Answers `200 pong` for requests whose path is exactly `path`; other requests pass through.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    path: field(str(), { doc: "Exact request path answered with `pong`. Empty never answers.", default: "" }),
  },
});
