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
export function scanPositions(text: string, file: string): Map<string, Position> {
  const out = new Map<string, Position>();
  const arrayTableCounts = new Map<string, number>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let table = "";

  const pos = (): Position => ({ file, line, column: i - lineStart + 1 });
  const join = (a: string, b: string | number) => (a === "" ? String(b) : `${a}\u0000${b}`);
  const set = (k: string, p: Position) => {
    if (out.get(k) === undefined) out.set(k, p);
  };
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
        while (i < text.length && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
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
  const readValue = (path: string) => {
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
        const item = join(path, n);
        set(item, pos());
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
        const key = parts.reduce(join, path);
        set(key, at);
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
      const k = pathKey(parts);
      if (isArray) {
        const n = arrayTableCounts.get(k) ?? 0;
        arrayTableCounts.set(k, n + 1);
        table = join(k, n);
        set(k, at);
      } else {
        table = k;
      }
      set(table, at);
      // Parents of a header point at the header too, unless seen earlier.
      let parent = "";
      for (let j = 0; j < parts.length - 1; j++) set(parent = join(parent, parts[j]!), at);
      continue;
    }
    const { parts, at } = readKey();
    let key = table;
    for (const part of parts) set(key = join(key, part), at);
    skipWs(false);
    if (text[i] === "=") i++;
    readValue(key);
    // Rest of the line (comments).
    skipWs(false);
    if (i < text.length && text[i] !== "\n") i++;
  }
  return out;
}
