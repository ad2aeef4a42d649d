/**
 * Plain-text tables and number formatting for the bench reports.
 *
 * @module
 */

/** A number with a fixed count of fraction digits and thousands separators. */
export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * A Markdown table; the first row is the header.
 *
 * @param rows Cells by row.
 * @returns The table's lines joined.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]) => "| " + widths.map((w, c) => (r[c] ?? "").padEnd(w)).join(" | ") + " |";
  const sep = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|";
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join("\n");
}

/** Median of the finite values of a list (NaN when there are none). */
export function finiteMedian(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
