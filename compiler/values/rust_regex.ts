/**
 * Pingap's regexes are Rust `regex` crate syntax. They are translated to
 * JavaScript once, at compile time: `(?P<name>…)` becomes `(?<name>…)`, a
 * leading inline flag group such as `(?i)` becomes RegExp flags, `\A` and
 * `\z` become anchors. What JavaScript cannot express is an error that says
 * so.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";

const FLAG_MAP: Record<string, string> = { i: "i", m: "m", s: "s" };

/**
 * Translates a Rust regex into a compiled JS RegExp.
 *
 * @example Usage
 * ```ts
 * import { rustRegex } from "./rust_regex.ts";
 * const r = rustRegex("(?i)^/(?P<name>[a-z]+)");
 * if (!r.ok || r.value.exec("/ABC")?.groups?.name !== "ABC") throw new Error();
 * ```
 */
export function rustRegex(source: string, extraFlags = ""): Parsed<RegExp> {
  let src = source;
  let flags = extraFlags;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === "x") {
        return {
          ok: false,
          message: `Regex ${JSON.stringify(source)} uses the "x" (verbose) flag, which JavaScript does not support`,
          hint: "Remove whitespace and comments from the pattern and drop the x flag",
        };
      }
      if (f === "U") {
        return {
          ok: false,
          message: `Regex ${JSON.stringify(source)} uses the "U" (swap greed) flag, which JavaScript does not support`,
          hint: "Write lazy quantifiers (*?, +?) explicitly instead",
        };
      }
      if (f === "u") continue;
      const js = FLAG_MAP[f];
      if (js === undefined) {
        return { ok: false, message: `Regex ${JSON.stringify(source)} has unknown inline flag "${f}"` };
      }
      if (!flags.includes(js)) flags += js;
    }
    src = src.slice(lead[0].length);
  }
  src = translateBody(src);
  if (/\(\?[a-zA-Z]*x[a-zA-Z]*[:)]/.test(src)) {
    return {
      ok: false,
      message: `Regex ${JSON.stringify(source)} uses an inline "x" flag, which JavaScript does not support`,
    };
  }
  try {
    return { ok: true, value: new RegExp(src, flags + "u") };
  } catch {
    // The u flag is stricter about escapes; Rust accepts most of them.
  }
  try {
    return { ok: true, value: new RegExp(src, flags) };
  } catch (e) {
    const reason = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "");
    return {
      ok: false,
      message: `Invalid regex ${JSON.stringify(source)}: ${reason}`,
      hint: "Check brackets and escapes; the syntax is Rust's regex crate",
    };
  }
}

/** Rewrites Rust-only constructs inside a pattern body. */
function translateBody(src: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1] ?? "";
      if (!inClass && n === "A") out += "(?<![\\s\\S])";
      else if (!inClass && n === "z") out += "(?![\\s\\S])";
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      if (c === "[" && src.startsWith("[:", i)) {
        const end = src.indexOf(":]", i);
        const name = end > 0 ? src.slice(i + 2, end) : "";
        const posix = Object.hasOwn(POSIX, name) ? POSIX[name] : undefined;
        if (posix) {
          out += posix;
          i = end + 1;
          continue;
        }
      }
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (src[i + 1] === "^") out += src[++i];
      if (src[i + 1] === "]") out += "\\" + src[++i];
      continue;
    }
    if (c === "(" && src.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
      continue;
    }
    out += c;
  }
  return out;
}

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  lower: "a-z",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Names of the capture groups of a RegExp, in order. */
export function groupNames(re: RegExp): string[] {
  const names: string[] = [];
  const re2 = /\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g;
  let m;
  while ((m = re2.exec(re.source))) names.push(m[1]!);
  return names;
}
