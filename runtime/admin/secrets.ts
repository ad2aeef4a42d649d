/**
 * Secrets are never returned by the admin API: certificate and client keys,
 * a secret storage's value and its AES key, the accounts, passwords, tokens
 * and shared secrets of plugins, `Authorization` header lines, and the
 * password and credential parameters of URLs (webhooks, metrics push,
 * DNS services). Each reads as {@linkcode SECRET_PLACEHOLDER} (inside a
 * URL, in place of the credential only). A write that sends back what was
 * read keeps the stored value at that place, so a form can round-trip an
 * item without ever holding its secrets.
 *
 * @module
 */
import { isTable, type RawTree, stableHash } from "../../compiler/mod.ts";

/** What a secret reads as. Sent back in a write, it means "keep the stored value". */
export const SECRET_PLACEHOLDER = "<secret: unchanged>";

/** Keys whose values are secrets wherever they are. */
const SECRET_KEYS = new Set([
  "authorizations",
  "readonly_authorizations",
  "tokens",
  "readonly_tokens",
  "htpasswd",
  "password",
  "secret",
  "keys",
  "acme_eab_hmac",
  "client_key",
  "tls_key",
  "webhook_secret",
]);

/** URL query parameters that carry credentials. */
const SECRET_PARAMS = /^(password|passwd|secret|token|access_token|key|api_key|apikey|sign)$/i;

/** Whether `key` of an item of `section` holds a secret as a whole. */
function isSecret(section: string, item: Record<string, unknown>, key: string): boolean {
  if (SECRET_KEYS.has(key)) return true;
  if (key === "key" && (section === "certificates" || item.category === "csrf")) return true;
  // A secret storage's value, and any value encrypted with an AES key (`secret`, masked itself above).
  if (section === "storages" && key === "value") return item.category === "secret" || !!item.secret;
  return false;
}

/** A URL with its password and credential parameters replaced; other text as it is. */
function maskUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let out = text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:?#]*:)[^/@?#]*@/i, `$1${SECRET_PLACEHOLDER}@`);
  out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep, name) => {
    return SECRET_PARAMS.test(decodeURIComponentSafe(name)) ? `${sep}${name}=${SECRET_PLACEHOLDER}` : all;
  });
  return out;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function maskString(text: string): string {
  // A header line giving credentials (`proxy_set_headers`, webhook headers).
  if (/^\s*(proxy-)?authorization\s*:/i.test(text)) return SECRET_PLACEHOLDER;
  return maskUrl(text);
}

/** The value of `key` as the API shows it. */
function maskField(section: string, item: Record<string, unknown>, key: string, value: unknown): unknown {
  if (isSecret(section, item, key)) {
    if (Array.isArray(value)) return value.map(() => SECRET_PLACEHOLDER);
    return value === "" || value === undefined ? value : SECRET_PLACEHOLDER;
  }
  if (typeof value === "string") return maskString(value);
  if (Array.isArray(value)) return value.map((v) => typeof v === "string" ? maskString(v) : v);
  return value;
}

/** An item with its secrets replaced. */
export function maskItem(section: string, item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = maskField(section, item, k, v);
  return out;
}

/** A whole raw config with every secret replaced. */
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

function holdsPlaceholder(value: unknown): boolean {
  if (typeof value === "string") return value.includes(SECRET_PLACEHOLDER);
  if (Array.isArray(value)) return value.some(holdsPlaceholder);
  return false;
}

/**
 * A written item with what was read back in place of a secret replaced by the stored value at the same place.
 * Returns the item, or the key holding a placeholder with no stored value to keep.
 */
export function unmaskItem(
  section: string,
  written: Record<string, unknown>,
  stored: Record<string, unknown> | undefined,
): Record<string, unknown> | { readonly missing: string } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(written)) {
    const old = stored?.[k];
    if (old !== undefined) {
      const shown = maskField(section, stored!, k, old);
      if (stableHash(v) === stableHash(shown)) {
        out[k] = old;
        continue;
      }
      if (Array.isArray(v) && Array.isArray(old) && Array.isArray(shown)) {
        const list = v.map((e, i) => i < old.length && stableHash(e) === stableHash(shown[i]) ? old[i] : e);
        const bad = list.findIndex(holdsPlaceholder);
        if (bad >= 0) return { missing: `${k}[${bad}]` };
        out[k] = list;
        continue;
      }
    }
    if (holdsPlaceholder(v)) return { missing: k };
    out[k] = v;
  }
  return out;
}

/**
 * Each secret string of a raw config with what it reads as (`[stored, shown]`, longest first): for masking the
 * text of diagnostics, which may quote a value.
 */
export function secretStrings(raw: RawTree): [string, string][] {
  const pairs = new Map<string, string>();
  const add = (a: unknown, b: unknown) => {
    if (typeof a === "string" && typeof b === "string" && a !== b && a.length >= 3) pairs.set(a, b);
    if (Array.isArray(a) && Array.isArray(b)) a.forEach((x, i) => add(x, b[i]));
  };
  const shown = maskTree(raw);
  for (const [section, value] of Object.entries(raw)) {
    if (!isTable(value)) continue;
    const items = section === "basic" ? { "": value } : value;
    const masked = (section === "basic" ? { "": shown.basic } : shown[section]) as Record<string, unknown>;
    for (const [name, item] of Object.entries(items)) {
      if (!isTable(item) || !isTable(masked?.[name])) continue;
      for (const [k, v] of Object.entries(item)) add(v, (masked[name] as Record<string, unknown>)[k]);
    }
  }
  return [...pairs].sort((x, y) => y[0].length - x[0].length);
}

/** `text` with every secret it quotes replaced by what the secret reads as. */
export function maskText(text: string, secrets: readonly [string, string][]): string {
  let out = text;
  for (const [secret, shown] of secrets) if (out.includes(secret)) out = out.split(secret).join(shown);
  return out;
}
