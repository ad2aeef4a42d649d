/**
 * The HTML listing of a directory (`directory` with `autoindex = true`): entries sorted by name, dotfiles left out,
 * names escaped and links percent-encoded, so a file called `<script>` or `a b#c` is shown as text and linked right.
 *
 * @module
 */

/** Escapes the characters HTML gives meaning to. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** One entry of a listing. */
export interface ListingEntry {
  readonly name: string;
  readonly isFile: boolean;
  readonly size: number;
  readonly mtime: Date | null;
}

/**
 * The entries of the directory at `dir`, sorted by name, without dotfiles; an entry that vanished between the listing
 * and its stat is left out.
 *
 * @param dir The directory.
 * @returns Its entries.
 */
export async function readListing(dir: string): Promise<ListingEntry[]> {
  const out: ListingEntry[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name === "" || e.name.startsWith(".")) continue;
    try {
      const info = await Deno.stat(`${dir}/${e.name}`);
      out.push({ name: e.name, isFile: info.isFile, size: info.size, mtime: info.mtime });
    } catch {
      // gone since the listing
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A size as people read it (`1.2 KiB`). */
function humanSize(size: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = size;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/**
 * The listing page.
 *
 * @example Usage
 * ```ts
 * import { listingHtml } from "./directory_listing.ts";
 * const html = listingHtml([{ name: "<b>.txt", isFile: true, size: 3, mtime: null }]);
 * if (!html.includes('href="./%3Cb%3E.txt"') || !html.includes("&lt;b&gt;.txt")) throw new Error();
 * ```
 *
 * @param entries The entries, in order.
 * @returns The HTML.
 */
export function listingHtml(entries: readonly ListingEntry[]): string {
  let rows = "";
  for (const e of entries) {
    const href = `./${encodeURIComponent(e.name)}${e.isFile ? "" : "/"}`;
    const size = e.isFile ? humanSize(e.size) : "";
    const modified = e.isFile && e.mtime ? e.mtime.toISOString() : "";
    rows += `<tr><td class="name"><a href="${href}">${escapeHtml(e.name)}${e.isFile ? "" : "/"}</a></td>` +
      `<td class="size">${size}</td><td class="lastModified">${modified}</td></tr>\n`;
  }
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Index</title>
<style>*{margin:0;padding:0}table{width:100%}a{color:#333}th,td{padding:10px;text-align:left}
thead{background-color:#f0f0f0}tr:nth-child(even){background-color:#f0f0f0}.lastModified{text-align:right}</style>
</head>
<body>
<table><thead><tr><th class="name">File Name</th><th class="size">Size</th><th class="lastModified">Last Modified</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
</body>
</html>
`;
}
