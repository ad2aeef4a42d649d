/**
 * Where the nodes of a KDL (v2) text are: the KDL parser we use (kdljs)
 * gives nodes without positions, and the same empty children list for `a`
 * and `a {}`. This scan of the original text gives, for each node in
 * document order (depth first, slashdashed ones left out), its position and
 * whether it has a children block. It reads only structure (comments,
 * slashdash, strings, raw strings, braces, line continuations); the readers
 * use it only when its node names agree with the parser's.
 *
 * @module
 */

/** A node: its name as written (unquoted when it was a plain string), where it is and whether it has `{ … }`. */
export interface ScannedNode {
  readonly name: string;
  readonly line: number;
  readonly column: number;
  hasBlock: boolean;
  readonly children: ScannedNode[];
}

const SPECIAL = new Set([...'\\/(){};[]="#']);

/** Scans a KDL text. Never throws: what it cannot follow it leaves out. */
export function scanKdl(text: string): ScannedNode[] {
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
  const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\uFEFF";
  /** Skips spaces, block comments and line continuations (not line ends). */
  const skipInline = () => {
    while (i < n) {
      const c = text[i];
      if (isSpace(c)) i++;
      else if (c === "/" && text[i + 1] === "*") skipBlockComment();
      else if (c === "\\") {
        // Line continuation: `\`, spaces, an optional line comment, a line end.
        i++;
        while (isSpace(text[i])) i++;
        if (text[i] === "/" && text[i + 1] === "/") { while (i < n && text[i] !== "\n") i++; }
        if (text[i] === "\n") advance(i + 1);
      } else break;
    }
  };
  const skipBlockComment = () => {
    let depth = 0;
    while (i < n) {
      if (text[i] === "/" && text[i + 1] === "*") {
        depth++;
        i += 2;
      } else if (text[i] === "*" && text[i + 1] === "/") {
        i += 2;
        if (--depth === 0) return;
      } else advance(i + 1);
    }
  };
  /** Skips one value or identifier token; returns its text (a quoted string's content, roughly unescaped). */
  const skipToken = (): string => {
    const s = i;
    if (text[i] === "#" && (text[i + 1] === '"' || text[i + 1] === "#")) {
      let hashes = 0;
      while (text[i] === "#") {
        hashes++;
        i++;
      }
      const multi = text.startsWith('"""', i);
      const close = (multi ? '"""' : '"') + "#".repeat(hashes);
      const end = text.indexOf(close, i + (multi ? 3 : 1));
      const body = text.slice(i + (multi ? 3 : 1), end < 0 ? n : end);
      advance(end < 0 ? n : end + close.length);
      return body;
    }
    if (text[i] === '"') {
      const multi = text.startsWith('"""', i);
      i += multi ? 3 : 1;
      const from = i;
      while (i < n) {
        if (text[i] === "\\") advance(i + 2);
        else if (multi ? text.startsWith('"""', i) : text[i] === '"') break;
        else advance(i + 1);
      }
      const body = text.slice(from, i);
      i += multi ? 3 : 1;
      return body.replace(
        /\\(.)/g,
        (_, c: string) => ({ n: "\n", t: "\t", r: "\r" } as Record<string, string>)[c] ?? c,
      );
    }
    while (i < n && !isSpace(text[i]) && text[i] !== "\n" && (!SPECIAL.has(text[i]!) || (i === s && text[i] === "#"))) {
      i++;
    }
    return text.slice(s, i);
  };
  /** Skips a `(type)` annotation. */
  const skipType = () => {
    if (text[i] !== "(") return;
    const end = text.indexOf(")", i);
    advance(end < 0 ? n : end + 1);
  };
  /** Nodes up to `}` (not consumed) or the end; `out` undefined: slashdashed, counted nowhere. */
  const nodes = (out: ScannedNode[] | undefined): void => {
    for (;;) {
      // Line space: spaces, line ends, `;`, comments.
      for (;;) {
        skipInline();
        if (text[i] === "\n" || text[i] === ";") advance(i + 1);
        else if (text[i] === "/" && text[i + 1] === "/") { while (i < n && text[i] !== "\n") i++; }
        else break;
      }
      if (i >= n || text[i] === "}") return;
      let target = out;
      if (text[i] === "/" && text[i + 1] === "-") {
        i += 2;
        for (;;) {
          skipInline();
          if (text[i] === "\n") advance(i + 1);
          else break;
        }
        target = undefined;
      }
      skipType();
      const at = { line, column: i - lineStart + 1 };
      const before = i;
      const name = skipToken();
      if (i === before) {
        i = n; // Lost.
        return;
      }
      const node: ScannedNode = { name, ...at, hasBlock: false, children: [] };
      target?.push(node);
      // Entries and children up to the node's end.
      for (;;) {
        skipInline();
        const c = text[i];
        if (i >= n || c === "\n" || c === ";" || c === "}" || (c === "/" && text[i + 1] === "/")) break;
        let dashed = false;
        if (c === "/" && text[i + 1] === "-") {
          i += 2;
          skipInline();
          dashed = true;
        }
        if (text[i] === "{") {
          i++;
          nodes(dashed || !target ? undefined : node.children);
          if (text[i] === "}") i++;
          if (!dashed) node.hasBlock = true;
          continue;
        }
        skipType();
        const b = i;
        skipToken();
        if (text[i] === "=") {
          i++;
          skipType();
          skipToken();
        }
        if (i === b) {
          i = n;
          return;
        }
      }
    }
  };
  const out: ScannedNode[] = [];
  nodes(out);
  return out;
}
