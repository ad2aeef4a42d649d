/**
 * Every section's schema, in config order. The single definition that the
 * validation, `docs/config.md` and `docs/pingap.schema.json` come from.
 *
 * @module
 */
import { basicSchema } from "./basic.ts";
import { certificateSchema } from "./certificate.ts";
import { locationSchema } from "./location.ts";
import { serverSchema } from "./server.ts";
import { storageSchema } from "./storage.ts";
import type { TableSchema } from "./types.ts";
import { upstreamSchema } from "./upstream.ts";

/** A top-level section: `basic` is one table, the others hold named items. */
export interface Section {
  readonly key: string;
  readonly named: boolean;
  readonly schema: TableSchema;
}

/** The sections other than `plugins` (whose schema depends on `category`). */
export const SECTIONS: readonly Section[] = [
  { key: "basic", named: false, schema: basicSchema },
  { key: "servers", named: true, schema: serverSchema },
  { key: "locations", named: true, schema: locationSchema },
  { key: "upstreams", named: true, schema: upstreamSchema },
  { key: "certificates", named: true, schema: certificateSchema },
  { key: "storages", named: true, schema: storageSchema },
];

export { basicSchema, certificateSchema, locationSchema, serverSchema, storageSchema, upstreamSchema };
export * from "./types.ts";
