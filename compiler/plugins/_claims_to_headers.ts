/**
 * `claims_to_headers` of `jwt` and `oidc`: `claim:Header-Name` entries, split at the last colon.
 *
 * @module
 */
import { diag, type Diagnostic, type KeyPath } from "../diagnostic.ts";
import { headerName } from "../values/header.ts";

/** Headers that frame or route a request: never a claim's. */
const FRAMING = ["content-length", "transfer-encoding", "host", "connection"];

/** One claim and the (lower-case) header it goes in. */
export interface ClaimHeader {
  readonly claim: string;
  readonly header: string;
}

/**
 * The entries of `claims_to_headers`; a bad entry is a diagnostic at `path` + its index and is left out.
 *
 * @example Usage
 * ```ts
 * import { claimsToHeaders } from "./_claims_to_headers.ts";
 * const diags: import("../diagnostic.ts").Diagnostic[] = [];
 * const r = claimsToHeaders(["https://x/groups:X-Groups", "Host"], ["p"], diags);
 * if (r[0]?.claim !== "https://x/groups" || r[0]?.header !== "x-groups" || diags.length !== 1) throw new Error();
 * ```
 */
export function claimsToHeaders(items: readonly string[], path: KeyPath, diags: Diagnostic[]): ClaimHeader[] {
  return items.flatMap((item, i) => {
    const at = [...path, i];
    const colon = item.lastIndexOf(":");
    const claim = colon < 0 ? "" : item.slice(0, colon).trim();
    const name = colon < 0 ? undefined : headerName(item.slice(colon + 1).trim());
    if (claim === "" || name === undefined) {
      diags.push(diag("invalid-value", at, `${JSON.stringify(item)} should be claim:Header-Name`, {
        hint: 'e.g. "sub:X-User-Id"',
      }));
      return [];
    }
    if (!name.ok) {
      diags.push(diag("invalid-value", at, name.message, { hint: 'e.g. "sub:X-User-Id"' }));
      return [];
    }
    if (FRAMING.includes(name.value)) {
      diags.push(diag("invalid-value", at, `${name.value} is not a header for a claim`, {
        hint: "Name a header of your own, e.g. X-User-Id",
      }));
      return [];
    }
    return [{ claim, header: name.value }];
  });
}
