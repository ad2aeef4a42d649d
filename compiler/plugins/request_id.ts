/**
 * `request_id`: gives every request an id header.
 *
 * @module
 */
import { field, int, oneOf, parsed } from "../schema/types.ts";
import { headerName, writableHeaderName } from "../values/header.ts";
import { definePlugin } from "./define.ts";

/** Compiled `request_id` config. */
export interface RequestIdPlan {
  /** `uuid` generates a UUID v7; `nanoid` a random URL-safe id of `size` characters. */
  readonly algorithm: "uuid" | "nanoid";
  /** nanoid length. */
  readonly size: number;
  /** Lower-cased request header that carries the id. */
  readonly headerName: string;
}

/** The `request_id` plugin. */
export const requestId = definePlugin({
  category: "request_id",
  runtime: true,
  doc: "Makes sure every request carries an id: an id already present in the request header is kept, otherwise a new " +
    "one is generated and set on the request, so the upstream and the access log (`{request_id}`) see it.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  fields: {
    algorithm: field(oneOf(["uuid", "nanoid"]), {
      doc:
        "How new ids are made: `uuid` (a time-ordered UUID v7) or `nanoid` (a short random id of `size` characters).",
      default: "uuid",
    }),
    size: field(int({ min: 0, max: 256 }), {
      doc: "Length of a nanoid; `0` means the default, 8.",
      default: 8,
      unit: "characters",
    }),
    header_name: field(
      parsed("header name", (s) => {
        const name = headerName(s);
        return name.ok ? writableHeaderName(name.value) : name;
      }),
      { doc: "Request header that holds the id.", default: "X-Request-Id" },
    ),
  },
  compile(config): RequestIdPlan {
    return { algorithm: config.algorithm, size: config.size === 0 ? 8 : config.size, headerName: config.header_name };
  },
});
