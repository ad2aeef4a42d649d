/**
 * Secrets are never returned by the admin API: certificate keys, storage
 * values marked secret, passwords, tokens, accounts and shared secrets of
 * plugins. Each is replaced by {@linkcode SECRET_PLACEHOLDER}; a write that
 * sends the placeholder back keeps the stored value at that place, so a
 * form can round-trip an item without ever holding its secrets.
 *
 * @module
 */
import { isTable, type RawTree } from "../../compiler/mod.ts";

/** What a secret reads as. Sent back in a write, it means "keep the stored value". */
export const SECRET_PLACEHOLDER = "<secret: unchanged>";

/** Keys whose values are secrets wherever they are (plugin accounts, passwords, shared secrets). */
const SECRET_KEYS = new Set([
  "authorizations",
  "password",
  "secret",
  "keys",
  "tokens",
  "readonly_authorizations",
  "readonly_tokens",
  "acme_eab_hmac",
  "hmac_secret",
  "client_secret",
  "webhook_key",
  "webhook_secret",
]);

/** Whether `key` of an item of `section` holds a secret. */
function isSecret(section: string, item: Record<string, unknown>, key: string): boolean {
  if (SECRET_KEYS.has(key)) return true;
  if (section === "certificates" && (key === "key" || key === "tls_key")) return true;
  // A secret storage's value, and any value encrypted with an AES key (`secret`, masked itself above).
  if (section === "storages" && key === "value") return item.category === "secret" || !!item.secret;
  return false;
}

function maskValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(() => SECRET_PLACEHOLDER);
  return value === "" || value === undefined ? value : SECRET_PLACEHOLDER;
}

/** An item with its secrets replaced. */
export function maskItem(section: string, item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = isSecret(section, item, k) ? maskValue(v) : v;
  return out;
}

/** A whole raw config with every secret replaced (a URL's password too). */
export function maskTree(raw: RawTree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [section, value] of Object.entries(raw)) {
    if (section === "basic" && isTable(value)) out.basic = maskItem("basic", value);
    else if (isTable(value)) {
      out[section] = Object.fromEntries(
        Object.entries(value).map(([name, item]) => [name, isTable(item) ? maskItem(section, item) : item]),
      );
    } else out[section] = value;
  }
  return out;
}

/**
 * A written item with each placeholder replaced by the stored value at the same place. Returns the item, or the
 * key whose placeholder has no stored value to keep.
 */
export function unmaskItem(
  written: Record<string, unknown>,
  stored: Record<string, unknown> | undefined,
): Record<string, unknown> | { readonly missing: string } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(written)) {
    const old = stored?.[k];
    if (v === SECRET_PLACEHOLDER) {
      if (old === undefined || Array.isArray(old)) return { missing: k };
      out[k] = old;
    } else if (Array.isArray(v) && v.includes(SECRET_PLACEHOLDER)) {
      const list: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        if (v[i] !== SECRET_PLACEHOLDER) list.push(v[i]);
        else if (Array.isArray(old) && old[i] !== undefined) list.push(old[i]);
        else return { missing: `${k}[${i}]` };
      }
      out[k] = list;
    } else out[k] = v;
  }
  return out;
}
