/**
 * Recovers the line and column of every key (and array item) of a TOML text
 * that has already parsed, since TOML parsers return plain values without
 * positions. It is a lenient scanner: it relies on the text being valid.
 *
 * @module
 */

/** 1-based line and column, and the file they are in. */
export interface Position {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Joins a key path into a map key. */
export function pathKey(path: readonly (string | number)[]): string {
  return path.join("\u0000");
}

/** One key of the tree: its position (the first seen) and its children by part. */
interface Node {
  pos: Position | undefined;
  kids: Map<string, Node> | undefined;
}

function child(node: Node, part: string): Node {
  let kids = node.kids;
  if (kids === undefined) kids = node.kids = new Map();
  let n = kids.get(part);
  if (n === undefined) kids.set(part, n = { pos: undefined, kids: undefined });
  return n;
}

function mark(node: Node, at: Position): void {
  if (node.pos === undefined) node.pos = at;
}

/**
 * The positions of one TOML text, as a tree of key parts (a flat map keyed by whole paths spent most of a large
 * config's scan hashing long path strings).
 */
export class Positions {
  /** @param root The tree. */
  constructor(readonly root: { readonly kids: Map<string, Node> | undefined }) {}

  /** The position of a path, keyed by {@linkcode pathKey}. */
  get(key: string): Position | undefined {
    let node: Node | undefined = this.root as Node;
    for (const part of key.split("\u0000")) {
      node = node.kids?.get(part);
      if (node === undefined) return undefined;
    }
    return node.pos;
  }
}

/**
 * Scans `text` and returns positions keyed by {@linkcode pathKey}: every
 * table header, every key, and every item of an array value.
 *
 * @example Usage
 * ```ts
 * import { pathKey, scanPositions } from "./_toml_positions.ts";
 * const pos = scanPositions('[servers.a]\naddr = "x"\n', "pingap.toml");
 * if (pos.get(pathKey(["servers", "a", "addr"]))?.line !== 2) throw new Error();
 * ```
 */
export function scanPositions(text: string, file: string): Positions {
  const root: Node = { pos: undefined, kids: undefined };
  const arrayTableCounts = new Map<Node, number>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let table = root;

  const pos = (): Position => ({ file, line, column: i - lineStart + 1 });
  const newline = () => {
    line++;
    lineStart = i + 1;
  };
  const skipWs = (multiline: boolean) => {
    while (i < text.length) {
      const c = text[i]!;
      if (c === " " || c === "\t" || c === "\r") i++;
      else if (c === "#") {
        while (i < text.length && text[i] !== "\n") i++;
      } else if (c === "\n" && multiline) {
        newline();
        i++;
      } else break;
    }
  };
  const readString = (): string => {
    const q = text[i]!;
    if (text.charCodeAt(i + 1) !== q.charCodeAt(0)) {
      // A one-line string without escapes (nearly all): one slice instead of a character at a time.
      const quote = q.charCodeAt(0);
      let j = i + 1;
      for (; j < text.length; j++) {
        const c = text.charCodeAt(j);
        if (c === quote || c === 10 || c === 92) break;
      }
      if (text.charCodeAt(j) === quote) {
        const s = text.slice(i + 1, j);
        i = j + 1;
        return s;
      }
    }
    const triple = text.startsWith(q.repeat(3), i);
    let s = "";
    if (triple) {
      i += 3;
      while (i < text.length && !(text.startsWith(q.repeat(3), i) && text[i + 3] !== q)) {
        if (text[i] === "\\" && q === '"') {
          s += text[i]! + (text[i + 1] ?? "");
          if (text[i + 1] === "\n") newline();
          i += 2;
          continue;
        }
        if (text[i] === "\n") newline();
        s += text[i];
        i++;
      }
      i += 3;
      return s;
    }
    i++;
    while (i < text.length && text[i] !== q && text[i] !== "\n") {
      if (text[i] === "\\" && q === '"') {
        const n = text[i + 1];
        s += n === "n" ? "\n" : n === "t" ? "\t" : n ?? "";
        i += 2;
        continue;
      }
      s += text[i];
      i++;
    }
    i++;
    return s;
  };
  const readKey = (): { parts: string[]; at: Position } => {
    const parts: string[] = [];
    let at = pos();
    for (;;) {
      skipWs(false);
      if (parts.length === 0) at = pos();
      const c = text[i];
      if (c === '"' || c === "'") parts.push(readString());
      else {
        const start = i;
        while (i < text.length && BARE_KEY[text.charCodeAt(i)] === 1) i++;
        parts.push(text.slice(start, i));
      }
      skipWs(false);
      if (text[i] === ".") {
        i++;
        continue;
      }
      return { parts, at };
    }
  };
  const readValue = (node: Node) => {
    skipWs(false);
    const c = text[i];
    if (c === '"' || c === "'") return void readString();
    if (c === "[") {
      i++;
      let n = 0;
      for (;;) {
        skipWs(true);
        if (i >= text.length) return;
        if (text[i] === "]") {
          i++;
          return;
        }
        if (text[i] === ",") {
          i++;
          continue;
        }
        const item = child(node, String(n));
        mark(item, pos());
        readValue(item);
        n++;
      }
    }
    if (c === "{") {
      i++;
      for (;;) {
        skipWs(false);
        if (i >= text.length || text[i] === "\n") return;
        if (text[i] === "}") {
          i++;
          return;
        }
        if (text[i] === ",") {
          i++;
          continue;
        }
        const { parts, at } = readKey();
        const key = parts.reduce(child, node);
        mark(key, at);
        if (text[i] === "=") i++;
        readValue(key);
      }
    }
    while (i < text.length && !/[,\]}\n#]/.test(text[i]!)) i++;
  };

  while (i < text.length) {
    skipWs(true);
    if (i >= text.length) break;
    if (text[i] === "[") {
      const isArray = text[i + 1] === "[";
      const at = pos();
      i += isArray ? 2 : 1;
      const { parts } = readKey();
      i += isArray ? 2 : 1;
      // Parents of a header point at the header too, unless seen earlier.
      let node = root;
      for (let j = 0; j < parts.length - 1; j++) mark(node = child(node, parts[j]!), at);
      node = child(node, parts[parts.length - 1]!);
      mark(node, at);
      if (isArray) {
        const n = arrayTableCounts.get(node) ?? 0;
        arrayTableCounts.set(node, n + 1);
        table = child(node, String(n));
        mark(table, at);
      } else {
        table = node;
      }
      continue;
    }
    const { parts, at } = readKey();
    let key = table;
    for (const part of parts) mark(key = child(key, part), at);
    skipWs(false);
    if (text[i] === "=") i++;
    readValue(key);
    // Rest of the line (comments).
    skipWs(false);
    if (i < text.length && text[i] !== "\n") i++;
  }
  return new Positions(root);
}

/** Characters of a bare key. */
const BARE_KEY = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") BARE_KEY[c.charCodeAt(0)] = 1;
