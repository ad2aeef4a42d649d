/**
 * Where things are in an HCL text: the blocks (type, labels, position,
 * span) and attribute names of every body, in the order written. The HCL
 * parser we use (hcl2json) gives values but no positions and loses block
 * order, so this scan of the original text supplies both. It reads only
 * structure (comments, strings, templates, heredocs, brackets) and runs
 * after the parser accepted the text; a text it cannot follow ends the scan
 * early and the readers fall back to coarser positions.
 *
 * @module
 */

/** An attribute's name and where it is. */
export interface ScannedAttr {
  readonly name: string;
  readonly line: number;
  readonly column: number;
}

/** A block, its labels, where it is and its span in the text. */
export interface ScannedBlock {
  readonly kind: string;
  readonly labels: readonly string[];
  readonly line: number;
  readonly column: number;
  /** Offset of its type identifier. */
  readonly start: number;
  /** Offset just past its closing brace. */
  end: number;
  readonly body: ScannedBody;
}

/** A body: its attributes and blocks in the order written. */
export interface ScannedBody {
  readonly attrs: ScannedAttr[];
  readonly blocks: ScannedBlock[];
}

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_-]/;

/** Decodes the escapes of an HCL quoted string's content (labels). */
function unquote(s: string): string {
  return s.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, e: string) => {
    if (e[0] === "u" || e[0] === "U") return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ({ n: "\n", r: "\r", t: "\t" } as Record<string, string>)[e] ?? e;
  });
}

/** Scans an HCL text. Never throws: what it cannot follow it leaves out. */
export function scanHcl(text: string): ScannedBody {
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;
  const advance = (to: number) => {
    for (; i < to && i < n; i++) {
      if (text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
  };
  /** Skips spaces, comments and (with `newlines`) line ends. */
  const skipSpace = (newlines: boolean) => {
    while (i < n) {
      const c = text[i]!;
      if (c === " " || c === "\t" || c === "\r") i++;
      else if (c === "\n" && newlines) advance(i + 1);
      else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
        while (i < n && text[i] !== "\n") i++;
      } else if (c === "/" && text[i + 1] === "*") {
        const end = text.indexOf("*/", i + 2);
        advance(end < 0 ? n : end + 2);
      } else break;
    }
  };
  /** Skips a quoted string (templates included) starting at `"`. */
  const skipString = () => {
    i++;
    while (i < n && text[i] !== '"') {
      if (text[i] === "\\") i += 2;
      else if ((text[i] === "$" || text[i] === "%") && text[i + 1] === "{") {
        i += 2;
        skipExpr("}");
        i++;
      } else if ((text[i] === "$" || text[i] === "%") && text[i + 1] === text[i] && text[i + 2] === "{") i += 3;
      else if (text[i] === "\n") return; // Not valid HCL: stop at the line end.
      else i++;
    }
    i++;
  };
  /** Skips a heredoc starting at `<<`. */
  const skipHeredoc = () => {
    const m = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)\r?\n/.exec(text.slice(i, i + 200));
    if (!m) {
      i += 2;
      return;
    }
    advance(i + m[0].length);
    while (i < n) {
      const eol = text.indexOf("\n", i);
      const end = eol < 0 ? n : eol;
      // The line end after the closing marker is left: it ends the attribute.
      if (text.slice(i, end).trim() === m[1]) return advance(end);
      advance(eol < 0 ? n : eol + 1);
    }
  };
  /** Skips an expression up to `close` (not consumed) or, at depth 0 with no `close`, the line end or a `}`. */
  const skipExpr = (close?: string) => {
    const stack: string[] = [];
    while (i < n) {
      const c = text[i]!;
      if (stack.length === 0) {
        if (close !== undefined && c === close) return;
        if (close === undefined && (c === "\n" || c === "}")) return;
      }
      if (c === '"') skipString();
      else if (c === "<" && text[i + 1] === "<" && /[-A-Za-z_]/.test(text[i + 2] ?? "")) skipHeredoc();
      else if (c === "#" || (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*"))) {
        if (c === "/" && text[i + 1] === "*") skipSpace(false);
        else if (stack.length === 0 && close === undefined) return;
        else skipSpace(false);
      } else if (c === "(" || c === "[" || c === "{") {
        stack.push(c === "(" ? ")" : c === "[" ? "]" : "}");
        i++;
      } else if (c === ")" || c === "]" || c === "}") {
        if (stack.pop() !== c) return;
        i++;
      } else if (c === "\n") advance(i + 1);
      else i++;
    }
  };
  const ident = (): string | undefined => {
    if (!IDENT_START.test(text[i] ?? "")) return undefined;
    const s = i;
    while (i < n && IDENT.test(text[i]!)) i++;
    return text.slice(s, i);
  };
  /** A body up to `}` (consumed by the caller) or the end. */
  const body = (): ScannedBody => {
    const out: ScannedBody = { attrs: [], blocks: [] };
    for (;;) {
      skipSpace(true);
      if (i >= n || text[i] === "}") return out;
      const start = i;
      const at = { line, column: i - lineStart + 1 };
      const name = ident();
      if (name === undefined) {
        i = n; // Lost: leave the rest out.
        return out;
      }
      skipSpace(false);
      if (text[i] === "=" && text[i + 1] !== "=") {
        i++;
        skipExpr();
        out.attrs.push({ name, ...at });
        continue;
      }
      const labels: string[] = [];
      for (;;) {
        if (text[i] === '"') {
          const s = i;
          skipString();
          labels.push(unquote(text.slice(s + 1, i - 1)));
        } else {
          const label = ident();
          if (label === undefined) break;
          labels.push(label);
        }
        skipSpace(false);
      }
      if (text[i] !== "{") {
        i = n;
        return out;
      }
      i++;
      const block: ScannedBlock = { kind: name, labels, ...at, start, end: start, body: body() };
      if (text[i] === "}") i++;
      block.end = i;
      out.blocks.push(block);
    }
  };
  return body();
}
