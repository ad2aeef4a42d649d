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
  const body = translateBody(src);
  if (typeof body !== "string") {
    return {
      ok: false,
      message: `Regex ${JSON.stringify(source)} uses ${body.construct}, which this version does not support`,
      hint: body.hint,
    };
  }
  src = body;
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

/** Why a pattern body cannot be translated: a message about the construct, and a hint. */
interface Untranslatable {
  readonly construct: string;
  readonly hint: string;
}

/**
 * Rewrites Rust-only constructs inside a pattern body. Inside a class, Rust
 * reads every unescaped `[` as a nested class (or an ASCII class such as
 * `[:alpha:]`) and `&&`, `--`, `~~` as set operations; JavaScript reads them
 * as literal characters, so the same text would match other strings. Those
 * that cannot be rewritten are refused.
 */
function translateBody(src: string): string | Untranslatable {
  let out = "";
  let inClass = false;
  let classNegated = false;
  let classBody = 0;
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
      if (c === "[") {
        const ascii = /^\[:(\^?)([^\]]*?):\]/.exec(src.slice(i, i + 64));
        if (ascii === null) {
          return {
            construct: "a nested character class",
            hint: "Write one class with every member, or escape a literal bracket as \\[",
          };
        }
        const [whole, caret, name] = ascii as unknown as [string, string, string];
        const posix = Object.hasOwn(POSIX, name) ? POSIX[name] : undefined;
        if (posix === undefined) {
          return {
            construct: `the unknown ASCII class "[:${caret}${name}:]" (Rust reads it as a nested class of its letters)`,
            hint: `Use one of: ${Object.keys(POSIX).join(", ")}; or escape a literal bracket as \\[`,
          };
        }
        if (caret === "") {
          out += posix;
        } else if (!classNegated && out.length === classBody && src[i + whole.length] === "]") {
          // `[[:^alpha:]]` alone is `[^A-Za-z]`; inside a larger class it has no JavaScript form.
          out += "^" + posix;
        } else {
          return {
            construct: `"[:^${name}:]" inside a larger class`,
            hint: `Write it as a class of its own, [[:^${name}:]], and join the two with |`,
          };
        }
        i += whole.length - 1;
        continue;
      }
      const pair = src.slice(i, i + 2);
      if (pair === "&&" || pair === "--" || pair === "~~") {
        return {
          construct: `the class set operation "${pair}"`,
          hint: "Write the resulting set as one class, or escape the characters (\\&, \\-, \\~)",
        };
      }
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      classNegated = src[i + 1] === "^";
      if (classNegated) out += src[++i];
      if (src[i + 1] === "]") out += "\\" + src[++i];
      classBody = out.length;
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
