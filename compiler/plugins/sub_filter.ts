/**
 * `sub_filter`: replaces text in response bodies, like nginx's `sub_filter`
 * and `subs_filter`.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, list, type Parsed, parsed } from "../schema/types.ts";
import { rustRegex } from "../values/rust_regex.ts";
import { regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** One replacement rule. */
export interface SubFilterRule {
  /** `regex` for `subs_filter`, `literal` for `sub_filter`. */
  readonly kind: "regex" | "literal";
  /** The text to find (`literal`). */
  readonly pattern: string;
  /**
   * The compiled pattern (`regex`), with flag `g` when `global` and `i` when
   * `caseInsensitive`, so `String.prototype.replace(regex, replacement)` does
   * the right thing.
   */
  readonly regex?: RegExp;
  /** Replacement; for `regex` rules in JS `replace` syntax (`$01`, `$<name>`, `$&`, `$$`). */
  readonly replacement: string;
  /** Replace every match (flag `g`), not just the first. */
  readonly global: boolean;
  /** Case-insensitive (flag `i`; regex rules only). */
  readonly caseInsensitive: boolean;
}

/** Compiled `sub_filter` config. */
export interface SubFilterPlan {
  /** Only requests whose path matches are filtered; absent filters all. */
  readonly path?: RegExp;
  /** Rules, applied in order to the whole body. */
  readonly filters: readonly SubFilterRule[];
  /** Only upstream responses with these statuses are filtered; absent filters all. */
  readonly statusCodes?: readonly number[];
}

const RULE = /^\s*(subs_filter|sub_filter)\s+'([^']+)'\s+'([^']+)'(?:\s+([a-z]+))?\s*$/;

/**
 * Translates a Rust `regex` replacement (`$1`, `${1}`, `$name`, `${name}`,
 * `$$`) for `re` to JS `replace` syntax. A reference to a group that does
 * not exist becomes empty text, as in Rust. Two-digit group numbers (`$01`)
 * keep JS from reading a following digit as part of the number.
 */
function jsReplacement(rust: string, re: RegExp): string {
  const probe = new RegExp(`${re.source}|`, re.flags.replace("g", "")).exec("")!;
  const count = probe.length - 1;
  const names = new Set(Object.keys(probe.groups ?? {}));
  return rust.replace(/\$(\$|\{([^}]*)\}|([A-Za-z0-9_]+))?/g, (whole, _all, braced?: string, bare?: string) => {
    // A literal "$" (Rust "$$", or "$" not starting a reference) is "$$" in JS.
    if (whole === "$$" || whole === "$") return "$$";
    const name = braced ?? bare ?? "";
    if (/^\d+$/.test(name)) {
      const n = Number(name);
      if (n === 0) return "$&";
      return n <= count && n < 100 ? `$${String(n).padStart(2, "0")}` : "";
    }
    return names.has(name) ? `$<${name}>` : "";
  });
}

function parseRule(text: string): Parsed<SubFilterRule> {
  const m = RULE.exec(text);
  if (!m) {
    return {
      ok: false,
      message: `Filter ${JSON.stringify(text)} is invalid`,
      hint:
        "Write sub_filter 'text' 'replacement' [flags] or subs_filter 'regex' 'replacement' [flags]; flags are g and i",
    };
  }
  const [, kind, pattern, replacement, flags = ""] = m as unknown as [string, string, string, string, string?];
  const bad = flags.replace(/[gi]/g, "");
  if (bad !== "") {
    return {
      ok: false,
      message: `Filter ${JSON.stringify(text)} has unknown flag "${bad[0]}"`,
      hint: "Flags are g (all matches) and i (ignore case)",
    };
  }
  const global = flags.includes("g");
  const caseInsensitive = flags.includes("i");
  if (kind === "sub_filter") {
    return { ok: true, value: { kind: "literal", pattern, replacement, global, caseInsensitive } };
  }
  const r = rustRegex(pattern, (global ? "g" : "") + (caseInsensitive ? "i" : ""));
  if (!r.ok) return r;
  return {
    ok: true,
    value: {
      kind: "regex",
      pattern,
      regex: r.value,
      replacement: jsReplacement(replacement, r.value),
      global,
      caseInsensitive,
    },
  };
}

/** The `sub_filter` plugin. */
export const subFilter = definePlugin({
  category: "sub_filter",
  runtime: true,
  doc:
    "Rewrites response bodies: each filter replaces a literal text (`sub_filter`) or a regex (`subs_filter`) with a " +
    "replacement, as the body streams (a regex rule matches within a line), `Content-Length` is dropped and the " +
    "response is sent chunked. Only upstream answers without a content coding are filtered; `path` and " +
    "`status_codes` narrow which.",
  steps: { allowed: ["response"], default: "response" },
  fields: {
    path: field(regex(), { doc: "Regex on the request path; only matching requests are filtered. Unset filters all." }),
    filters: field(array(parsed("filter", parseRule)), {
      doc: "Rules applied in order, each `sub_filter '<text>' '<replacement>' [flags]` or " +
        "`subs_filter '<regex>' '<replacement>' [flags]`. Flag `g` replaces every match instead of the first; `i` " +
        "ignores case (regex rules only). Regex replacements may use `$1` or `${name}`.",
      default: [],
    }),
    status_codes: field(list("status codes"), {
      doc: 'Upstream statuses whose responses are filtered, e.g. `"200,201"`. Unset filters every status.',
    }),
  },
  compile(config, ctx): SubFilterPlan {
    config.filters.forEach((rule, i) => {
      if (rule.kind === "literal" && rule.caseInsensitive) {
        ctx.diags.push(diag("ignored-flag", [...ctx.path, "filters", i], `Flag "i" has no effect on sub_filter rules`, {
          severity: "warning",
          hint: "Use subs_filter for a case-insensitive match",
        }));
      }
    });
    if (config.filters.length === 0) {
      ctx.diags.push(
        diag("plugin-inert", [...ctx.path, "filters"], "Sub filter has no filters, so it only re-chunks responses", {
          severity: "warning",
          hint: "Add a rule, e.g. filters = [\"sub_filter 'http://' 'https://' g\"]",
        }),
      );
    }
    let statusCodes: number[] | undefined;
    if (config.status_codes !== undefined) {
      statusCodes = [];
      for (const s of config.status_codes) {
        const n = Number(s);
        if (!/^\d{3}$/.test(s) || n < 100 || n > 599) {
          ctx.diags.push(
            diag("invalid-value", [...ctx.path, "status_codes"], `Status code ${JSON.stringify(s)} is invalid`, {
              hint: 'Use statuses from 100 to 599, e.g. "200,201"',
            }),
          );
        } else {
          statusCodes.push(n);
        }
      }
    }
    return {
      ...(config.path !== undefined ? { path: config.path } : {}),
      filters: config.filters,
      ...(statusCodes !== undefined ? { statusCodes } : {}),
    };
  },
});
