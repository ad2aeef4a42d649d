/**
 * The streaming replacer of `sub_filter`: the rules applied in order to a body that arrives in chunks, without
 * holding it whole, with matches that straddle chunk boundaries found as in the whole body.
 *
 * The body is handled as bytes (each byte one character of a "binary" string, so any body, text or not, comes out
 * byte for byte where nothing matched), and the patterns as the bytes of their UTF-8 text, as Pingap's byte regexes
 * do. Each rule is a stage that passes on what no later match can touch and keeps the rest:
 *
 * - a literal rule keeps the last `pattern length - 1` bytes (a match may start there);
 * - a regex rule keeps the unfinished last line, so a regex matches within a line (as nginx's `subs_filter` does);
 *   a line longer than {@linkcode MAX_LINE} is cut there.
 *
 * A rule without `g` passes everything on after its first match.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";

/** One compiled rule. */
type SubFilterRule = PlanOf<typeof PLUGIN_DEFINITIONS.subFilter>["filters"][number];

/** The longest line a regex rule holds back waiting for its end: past this it is matched as it stands. */
export const MAX_LINE = 1024 * 1024;

/** One rule over a stream of byte strings. */
interface Stage {
  /** Takes more of the body; returns what can be passed on. */
  push(text: string): string;
  /** Takes the last of the body; returns everything left. */
  end(text: string): string;
}

/** `s` (a JavaScript string) as the binary string of its UTF-8 bytes. */
function utf8Binary(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}

/**
 * A regex whose non-ASCII characters are written as their UTF-8 bytes, so it runs on binary strings: outside a
 * class a character becomes its byte sequence (grouped, so a quantifier takes the whole character); inside a class
 * its bytes join the class (an approximation: Rust's byte regexes match the character there).
 */
export function binaryRegex(re: RegExp): RegExp {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(re.source)) return re;
  let out = "", inClass = false;
  const src = re.source;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      out += c + (src[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    const cp = c.codePointAt(0)!;
    if (cp < 0x80) {
      out += c;
      continue;
    }
    const ch = String.fromCodePoint(cp);
    if (ch.length === 2) i++;
    const bytes = Array.from(Buffer.from(ch, "utf8"), (b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
    out += inClass ? bytes : `(?:${bytes})`;
  }
  try {
    return new RegExp(out, re.flags);
  } catch {
    return re;
  }
}

/** A rule made ready for bodies once, when the plugin is created: patterns and replacements as binary strings. */
export type PreparedRule =
  | { readonly kind: "literal"; readonly pattern: string; readonly replacement: string; readonly global: boolean }
  | {
    readonly kind: "regex";
    /** The global regex (`g`) for a rule with `g`, else the one that finds the first match. */
    readonly regex: RegExp;
    readonly replacement: string;
    readonly global: boolean;
  };

/** Prepares compiled rules for {@linkcode subFilterStream}. */
export function prepareRules(rules: readonly SubFilterRule[]): readonly PreparedRule[] {
  return rules.map((rule): PreparedRule => {
    const replacement = utf8Binary(rule.replacement);
    if (rule.kind === "literal") {
      return { kind: "literal", pattern: utf8Binary(rule.pattern), replacement, global: rule.global };
    }
    const re = binaryRegex(rule.regex!);
    const regex = rule.global ? re : new RegExp(re.source, re.flags.replace("g", ""));
    return { kind: "regex", regex, replacement, global: rule.global };
  });
}

function literalStage(rule: PreparedRule & { kind: "literal" }): Stage {
  const { pattern, replacement, global } = rule;
  let carry = "";
  let done = false;
  const run = (input: string, last: boolean): string => {
    if (done) return input;
    const buf = carry + input;
    carry = "";
    let out = "";
    let pos = 0;
    for (;;) {
      const at = buf.indexOf(pattern, pos);
      if (at < 0) break;
      out += buf.slice(pos, at) + replacement;
      pos = at + pattern.length;
      if (!global) {
        done = true;
        return out + buf.slice(pos);
      }
    }
    const keep = last ? buf.length : Math.max(pos, buf.length - (pattern.length - 1));
    carry = buf.slice(keep);
    return out + buf.slice(pos, keep);
  };
  return { push: (t) => run(t, false), end: (t) => run(t, true) };
}

function regexStage(rule: PreparedRule & { kind: "regex" }): Stage {
  const { regex, replacement, global } = rule;
  let carry = "";
  let done = false;
  const apply = (s: string): string => {
    if (global) return s.replace(regex, replacement);
    if (!regex.test(s)) return s;
    done = true;
    return s.replace(regex, replacement);
  };
  return {
    push(text) {
      if (done) return text;
      // Only the new text is searched for a line end: a long line in small chunks costs no rescans.
      const nl = text.lastIndexOf("\n");
      let cut = nl < 0 ? 0 : carry.length + nl + 1;
      const buf = carry + text;
      if (cut === 0 && buf.length <= MAX_LINE) {
        carry = buf;
        return "";
      }
      if (cut === 0) cut = buf.length;
      carry = buf.slice(cut);
      const out = apply(buf.slice(0, cut));
      if (!done) return out;
      // The first match was made: the rest is passed on as it comes.
      const rest = carry;
      carry = "";
      return out + rest;
    },
    end(text) {
      if (done) return text;
      const buf = carry + text;
      carry = "";
      return apply(buf);
    },
  };
}

/** A transform applying `rules` (from {@linkcode prepareRules}) in order to a streamed body. */
export function subFilterStream(rules: readonly PreparedRule[]): TransformStream<Uint8Array, Uint8Array> {
  const stages = rules.map((r) => r.kind === "literal" ? literalStage(r) : regexStage(r));
  const emit = (text: string, c: TransformStreamDefaultController<Uint8Array>) => {
    if (text === "") return;
    const b = Buffer.from(text, "latin1");
    c.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      let text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
      for (const s of stages) text = s.push(text);
      emit(text, c);
    },
    flush(c) {
      let text = "";
      for (const s of stages) text = s.end(text);
      emit(text, c);
    },
  });
}
