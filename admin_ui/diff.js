/** A line diff (longest common subsequence) and its view: what a change adds (+) and removes (−). */
import { html } from "./lib.js";

/** The lines of `before` and `after` as `[mark, line]`, mark ` `, `+` or `-`. */
export function diffLines(before, after) {
  const a = before === "" ? [] : before.split("\n");
  const b = after === "" ? [] : after.split("\n");
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push([" ", a[i]]);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) out.push(["-", a[i++]]);
    else out.push(["+", b[j++]]);
  }
  return out;
}

/** Unchanged lines kept around each change; longer unchanged runs fold into `…`. */
const CONTEXT = 3;

/** The lines worth showing: each change with {@link CONTEXT} lines either side. */
function withContext(lines) {
  const near = lines.map(() => false);
  lines.forEach(([mark], i) => {
    if (mark === " ") return;
    for (let k = Math.max(0, i - CONTEXT); k <= Math.min(lines.length - 1, i + CONTEXT); k++) near[k] = true;
  });
  const out = [];
  lines.forEach((line, i) => {
    if (near[i]) out.push(line);
    else if (out.at(-1)?.[0] !== "…") out.push(["…", ""]);
  });
  return out;
}

/** A diff as a block, unchanged lines kept as context. */
export function Diff({ before, after }) {
  const lines = withContext(diffLines(before ?? "", after ?? ""));
  return html`<pre class="diff">${
    lines.map(([mark, line]) =>
      html`<div class=${mark === "+" ? "add" : mark === "-" ? "del" : ""}>${mark} ${line}</div>`
    )
  }</pre>`;
}

/** An item as stable text for a diff: JSON with keys sorted. */
export function itemText(value) {
  if (value === null || value === undefined) return "";
  const sort = (v) =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === "object"
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]))
      : v;
  return JSON.stringify(sort(value), null, 2);
}
