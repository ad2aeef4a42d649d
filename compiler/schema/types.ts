/**
 * The schema DSL: every config key is defined once, as a {@linkcode Field}
 * holding its type, default, unit and doc text. From these definitions come
 * the validation ({@linkcode decodeTable}), the reference in `docs/config.md`
 * and the JSON Schema in `docs/pingap.schema.json`.
 *
 * @module
 */
import { diag, type Diagnostic, type KeyPath } from "../diagnostic.ts";
import { didYouMean } from "../did_you_mean.ts";
import {
  DURATION_UNIT_NAMES,
  type DurationLimit,
  parseDuration,
  parseSize,
  SIZE_UNIT_NAMES,
  TIMER_LIMIT,
} from "../units.ts";

/** A JSON Schema fragment. */
export type JsonSchema = { readonly [key: string]: unknown };

/** The result of parsing a string value: the value, or why it is wrong. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; hint?: string };

/** A value type: how to decode it, and how to describe it. */
export interface Type<T> {
  /** Name shown in docs and messages, e.g. `duration`, `array of strings`. */
  readonly name: string;
  /** JSON Schema of the raw TOML value. */
  readonly json: JsonSchema;
  /** Decodes a raw TOML value, pushing diagnostics; `undefined` when invalid. */
  decode(value: unknown, path: KeyPath, diags: Diagnostic[]): T | undefined;
}

/** One config key. */
export interface Field<T> {
  readonly type: Type<T>;
  /** What the key does (Markdown, one paragraph). */
  readonly doc: string;
  /** Default, written as in TOML (e.g. `"60s"`), decoded when the key is absent. */
  readonly default?: unknown;
  /** Default as shown in docs, when it is not simply the value (e.g. "system resolver"). */
  readonly defaultText?: string;
  /** Unit shown in docs (e.g. "ms" for durations is implied; use for counts like "requests"). */
  readonly unit?: string;
  /** Missing key is an error. */
  readonly required?: boolean;
  /** Extra JSON Schema for this key only (e.g. examples). */
  readonly examples?: readonly unknown[];
  /**
   * Set when the key is accepted (Pingap's files use it) but this version
   * does not apply it: why, and what would apply it. A config that sets the
   * key gets a `not-applied` warning at it, and docs/config.md says so.
   */
  readonly unapplied?: string;
}

/** The fields of one table. */
export type Fields = { readonly [key: string]: Field<unknown> };

/** A table schema (a section item, or a nested table). */
export interface TableSchema<F extends Fields = Fields> {
  /** Title, e.g. `[servers.<name>]`. */
  readonly title: string;
  /** What the table is. */
  readonly doc: string;
  readonly fields: F;
  /**
   * Old or mistaken key names that Pingap's own files use, mapped to the key
   * they mean. They are accepted with a warning.
   */
  readonly aliases?: { readonly [old: string]: string };
}

type FieldValue<F> = F extends Field<infer T> ? T : never;
type HasDefault<F> = F extends { default: unknown } ? true : F extends { required: true } ? true : false;

/** The decoded object of a table schema's fields. */
export type Decoded<F extends Fields> =
  & { readonly [K in keyof F as HasDefault<F[K]> extends true ? K : never]: FieldValue<F[K]> }
  & { readonly [K in keyof F as HasDefault<F[K]> extends true ? never : K]?: FieldValue<F[K]> };

/** Declares a field (identity function that keeps literal types). */
export function field<T, const O extends Omit<Field<T>, "type">>(
  type: Type<T>,
  options: O,
): O & { type: Type<T> } {
  return { type, ...options };
}

/** Declares a table schema. */
export function table<const F extends Fields>(schema: TableSchema<F>): TableSchema<F> {
  return schema;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  if (value instanceof Date) return "date";
  if (typeof value === "object") return "table";
  if (typeof value === "number" || typeof value === "bigint") {
    return Number.isInteger(Number(value)) ? "integer" : "float";
  }
  return typeof value;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Message for a wrong TOML type. */
export function wrongType(path: KeyPath, expected: string, value: unknown): Diagnostic {
  const got = typeName(value);
  let hint: string | undefined;
  if (got === "string" && /^(integer|float|number)/.test(expected) && /^\s*-?\d+(\.\d+)?\s*$/.test(String(value))) {
    hint = `Remove the quotes: ${String(value).trim()}`;
  } else if (got === "string" && expected === "boolean" && /^(true|false)$/i.test(String(value))) {
    hint = `Write ${String(value).toLowerCase()} without quotes`;
  } else if (expected.startsWith("array") && got === "string") {
    hint = `Write a list: [${show(value)}]`;
  }
  return diag("wrong-type", path, `Expected ${expected}, got ${got} ${show(value)}`, hint ? { hint } : {});
}

/** A string. */
export function str(options: { nonEmpty?: boolean; json?: JsonSchema; name?: string } = {}): Type<string> {
  return {
    name: options.name ?? "string",
    json: { type: "string", ...(options.nonEmpty ? { minLength: 1 } : {}), ...options.json },
    decode(value, path, diags) {
      if (typeof value !== "string") return void diags.push(wrongType(path, "string", value));
      if (options.nonEmpty && value.trim() === "") {
        return void diags.push(diag("empty-value", path, "Value is empty", { hint: "Give a value or remove the key" }));
      }
      return value;
    },
  };
}

/** A string parsed into `T` by `parse` (addresses, regexes, URLs…). */
export function parsed<T>(
  name: string,
  parse: (text: string) => Parsed<T>,
  json: JsonSchema = {},
): Type<T> {
  return {
    name,
    json: { type: "string", ...json },
    decode(value, path, diags) {
      if (typeof value !== "string") return void diags.push(wrongType(path, name, value));
      const r = parse(value);
      if (r.ok) return r.value;
      diags.push(diag("invalid-value", path, r.message, r.hint ? { hint: r.hint } : {}));
      return undefined;
    },
  };
}

/** A boolean. */
export function bool(): Type<boolean> {
  return {
    name: "boolean",
    json: { type: "boolean" },
    decode(value, path, diags) {
      if (typeof value !== "boolean") return void diags.push(wrongType(path, "boolean", value));
      return value;
    },
  };
}

/**
 * An integer within `[min, max]`. `hint` replaces the default hint of an
 * out-of-range value (say why the range is what it is).
 */
export function int(options: { min?: number; max?: number; hint?: string } = {}): Type<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  const name = max === Number.MAX_SAFE_INTEGER ? `integer ≥ ${min}` : `integer ${min}–${max}`;
  return {
    name,
    json: { type: "integer", minimum: min, ...(max === Number.MAX_SAFE_INTEGER ? {} : { maximum: max }) },
    decode(value, path, diags) {
      const n = typeof value === "bigint" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) return void diags.push(wrongType(path, "integer", value));
      if (n < min || n > max) {
        return void diags.push(
          diag("out-of-range", path, `Value ${n} is out of range`, { hint: options.hint ?? `Use an ${name}` }),
        );
      }
      return n;
    },
  };
}

const DURATION_PATTERN = "^\\s*(\\d+(\\.\\d+)?\\s*[A-Za-zµ]+\\s*)+$";

/**
 * A duration string, decoded to milliseconds. It may be at most `limit`:
 * by default {@linkcode TIMER_LIMIT}, since most durations become timers;
 * {@linkcode SECONDS_LIMIT} for one only sent as seconds (a max-age) or
 * compared with a clock (a TTL).
 */
export function duration(limit: DurationLimit = TIMER_LIMIT): Type<number> {
  return {
    name: "duration",
    json: { type: "string", pattern: DURATION_PATTERN, examples: ["500ms", "10s", "1m30s", "2d"] },
    decode(value, path, diags) {
      if (typeof value === "number" || typeof value === "bigint") {
        return void diags.push(diag("wrong-type", path, `Expected a duration string, got integer ${value}`, {
          hint: `Write it with a unit, e.g. "${value}s"`,
        }));
      }
      if (typeof value !== "string") return void diags.push(wrongType(path, "duration string", value));
      const r = parseDuration(value);
      if (typeof r === "string") {
        return void diags.push(
          diag("invalid-duration", path, r, { hint: `Units: ${DURATION_UNIT_NAMES}; e.g. "1m30s"` }),
        );
      }
      if (!(r <= limit.maxMs)) {
        return void diags.push(
          diag("out-of-range", path, `Duration ${JSON.stringify(value)} is longer than ${limit.what}`, {
            hint: `Use at most "${limit.longest}"`,
          }),
        );
      }
      return r;
    },
  };
}

/** A byte size (string with unit, or integer bytes), decoded to bytes. */
export function size(): Type<number> {
  return {
    name: "size",
    json: {
      anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*[A-Za-z]*\\s*$" }],
      examples: ["4kb", "10mb", "1gb"],
    },
    decode(value, path, diags) {
      if (typeof value === "number" || typeof value === "bigint") {
        const n = Number(value);
        if (Number.isSafeInteger(n) && n >= 0) return n;
      }
      if (typeof value !== "string") return void diags.push(wrongType(path, "size", value));
      const r = parseSize(value);
      if (typeof r === "string") {
        return void diags.push(diag("invalid-size", path, r, { hint: `Units: ${SIZE_UNIT_NAMES}; e.g. "10mb"` }));
      }
      return r;
    },
  };
}

/**
 * One of a fixed set of strings. `aliases` maps other accepted spellings to
 * a canonical value. Matching is case-insensitive unless `caseSensitive`.
 */
export function oneOf<const V extends string>(
  values: readonly V[],
  options: { aliases?: { readonly [k: string]: V }; caseSensitive?: boolean } = {},
): Type<V> {
  const norm = (s: string) => options.caseSensitive ? s : s.toLowerCase();
  const table = new Map<string, V>();
  for (const v of values) table.set(norm(v), v);
  for (const [k, v] of Object.entries(options.aliases ?? {})) table.set(norm(k), v);
  const all = [...values, ...Object.keys(options.aliases ?? {})];
  return {
    name: values.map((v) => `"${v}"`).join(" | "),
    json: options.caseSensitive
      ? { type: "string", enum: all }
      : { type: "string", pattern: `^\\s*(${all.map(caseInsensitivePattern).join("|")})\\s*$`, examples: values },
    decode(value, path, diags) {
      if (typeof value !== "string") return void diags.push(wrongType(path, "string", value));
      const v = table.get(norm(value.trim()));
      if (v !== undefined) return v;
      const hint = didYouMean(value, values) ?? `Use one of: ${values.join(", ")}`;
      diags.push(diag("invalid-value", path, `Unknown value ${JSON.stringify(value)}`, { hint }));
      return undefined;
    },
  };
}

function caseInsensitivePattern(word: string): string {
  return [...word].map((c) => {
    const lo = c.toLowerCase(), up = c.toUpperCase();
    if (lo !== up) return `[${lo}${up}]`;
    return c.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  }).join("");
}

/** An array of `of`. */
export function array<T>(of: Type<T>, options: { nonEmpty?: boolean } = {}): Type<readonly T[]> {
  return {
    name: `array of ${of.name}${/s$|\)$/.test(of.name) ? "" : "s"}`,
    json: { type: "array", items: of.json, ...(options.nonEmpty ? { minItems: 1 } : {}) },
    decode(value, path, diags) {
      if (!Array.isArray(value)) return void diags.push(wrongType(path, `array of ${of.name}`, value));
      if (options.nonEmpty && value.length === 0) {
        return void diags.push(diag("empty-value", path, "List is empty", { hint: "Give at least one item" }));
      }
      const out: T[] = [];
      let ok = true;
      value.forEach((item, i) => {
        const v = of.decode(item, [...path, i], diags);
        if (v === undefined) ok = false;
        else out.push(v);
      });
      return ok ? out : undefined;
    },
  };
}

/** A comma-separated string or an array of strings, decoded to trimmed items. */
export function list(name = "list"): Type<readonly string[]> {
  return {
    name: `${name} (comma-separated string or array of strings)`,
    json: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    decode(value, path, diags) {
      if (typeof value === "string") return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
        return value.flatMap((s: string) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "");
      }
      return void diags.push(wrongType(path, "string or array of strings", value));
    },
  };
}

/** A nested table, or an array of tables, decoded by a table schema. */
export function nested<F extends Fields>(schema: TableSchema<F>): Type<Decoded<F>> {
  return {
    name: "table",
    json: tableJsonSchema(schema),
    decode(value, path, diags) {
      return decodeTable(schema, value, path, diags);
    },
  };
}

/** Is `value` a plain TOML table? */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Decodes a table strictly: unknown keys are errors with a did-you-mean
 * hint, missing required keys are errors, defaults are applied. Returns
 * `undefined` if the value is not a table; otherwise the object holds every
 * key that decoded (so later stages can still check what is valid).
 */
export function decodeTable<F extends Fields>(
  schema: TableSchema<F>,
  value: unknown,
  path: KeyPath,
  diags: Diagnostic[],
): Decoded<F> | undefined {
  if (!isTable(value)) return void diags.push(wrongType(path, "table", value));
  const out: Record<string, unknown> = {};
  const names = Object.keys(schema.fields);
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(value)) {
    let name = key;
    // Own keys only: a config key such as "constructor" must not find Object.prototype's.
    const alias = schema.aliases && Object.hasOwn(schema.aliases, key) ? schema.aliases[key] : undefined;
    if (alias !== undefined && !Object.hasOwn(schema.fields, key)) {
      if (alias in value) {
        diags.push(
          diag("alias-ignored", [...path, key], `Key "${key}" is ignored because "${alias}" is also set`, {
            severity: "warning",
            hint: `Remove "${key}"`,
          }),
        );
        continue;
      }
      diags.push(
        diag("alias-key", [...path, key], `Key "${key}" is an old name for "${alias}"`, {
          severity: "warning",
          hint: `Rename it to "${alias}"`,
        }),
      );
      name = alias;
    }
    const f = Object.hasOwn(schema.fields, name) ? schema.fields[name] : undefined;
    if (f === undefined) {
      const hint = didYouMean(key, names) ?? `Known keys: ${names.join(", ")}`;
      diags.push(diag("unknown-key", [...path, key], `Unknown key "${key}" in ${schema.title}`, { hint }));
      continue;
    }
    seen.add(name);
    if (f.unapplied !== undefined) diags.push(notApplied([...path, key], `Key "${key}"`, f.unapplied));
    const v = f.type.decode(raw, [...path, key], diags);
    if (v !== undefined) out[name] = v;
  }
  for (const [name, f] of Object.entries(schema.fields)) {
    if (seen.has(name)) continue;
    if (f.required) {
      diags.push(
        diag("missing-key", [...path, name], `Missing required key "${name}" in ${schema.title}`, {
          hint: f.doc.split(/(?<=\.)\s/)[0],
        }),
      );
    } else if (f.default !== undefined) {
      out[name] = f.type.decode(f.default, [...path, name], diags);
    }
  }
  return out as Decoded<F>;
}

/**
 * The warning for a key that is accepted but not applied by this version
 * (see {@linkcode Field.unapplied}); also used for values, e.g. a webhook
 * event that is never sent.
 */
export function notApplied(path: KeyPath, subject: string, reason: string): Diagnostic {
  return diag("not-applied", path, `${subject} is accepted but not applied by this version: ${reason}`, {
    severity: "warning",
    hint: "It has no effect here; remove it, or keep it for Pingap",
  });
}

/** JSON Schema of a table schema. */
export function tableJsonSchema(schema: TableSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, f] of Object.entries(schema.fields)) {
    properties[name] = {
      ...f.type.json,
      description: f.unapplied === undefined ? f.doc : `${f.doc} Not applied by this version: ${f.unapplied}`,
      ...(f.default !== undefined ? { default: f.default } : {}),
      ...(f.examples ? { examples: f.examples } : {}),
    };
  }
  for (const [old, now] of Object.entries(schema.aliases ?? {})) {
    properties[old] = { ...(properties[now] ?? {}), deprecated: true, description: `Old name of \`${now}\`.` };
  }
  const required = Object.entries(schema.fields).filter(([, f]) => f.required).map(([n]) => n);
  return {
    type: "object",
    description: schema.doc,
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}
