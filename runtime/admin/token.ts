/**
 * Pingap's admin login token: `Authorization: <hex sha256("user:pass:ts")>:<ts>`,
 * `ts` in unix seconds. The digest is compared in constant time against
 * every account; a timestamp more than `max_age` away from the server
 * clock (either way) is refused.
 *
 * @module
 */
/** One admin account (the compiled `authorizations`). */
export interface AdminAccount {
  readonly user: string;
  readonly password: string;
}

/** Why a token was refused, or the account it names. */
export type TokenCheck =
  | { readonly ok: true; readonly user: string }
  | { readonly ok: false; readonly reason: "missing" | "malformed" | "expired" | "mismatch" };

const encoder = new TextEncoder();

/** Hex SHA-256 of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let out = "";
  for (const b of digest) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Equal strings, in a time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % Math.max(1, y.length)] ?? 0);
  return diff === 0;
}

/**
 * The token a client sends for `account` at `ts` (unix seconds).
 *
 * @example Usage
 * ```ts
 * import { loginToken } from "./token.ts";
 * const t = await loginToken({ user: "a", password: "b" }, 1700000000);
 * if (!t.endsWith(":1700000000") || t.length !== 64 + 11) throw new Error(t);
 * ```
 */
export async function loginToken(account: AdminAccount, ts: number): Promise<string> {
  return `${await sha256Hex(`${account.user}:${account.password}:${ts}`)}:${ts}`;
}

/**
 * Checks an `Authorization` value against the accounts, with `maxAgeMs` of allowed clock skew and `nowMs` the
 * server's clock.
 */
export async function checkToken(
  value: string | null,
  accounts: readonly AdminAccount[],
  maxAgeMs: number,
  nowMs: number,
): Promise<TokenCheck> {
  if (!value) return { ok: false, reason: "missing" };
  const colon = value.lastIndexOf(":");
  if (colon < 0) return { ok: false, reason: "malformed" };
  const token = value.slice(0, colon).trim();
  const tsText = value.slice(colon + 1).trim();
  if (!/^\d{1,12}$/.test(tsText) || !/^[0-9a-fA-F]{64}$/.test(token)) return { ok: false, reason: "malformed" };
  const ts = Number(tsText);
  if (Math.abs(nowMs / 1000 - ts) > maxAgeMs / 1000) return { ok: false, reason: "expired" };
  let user: string | undefined;
  // Every account is tried, matched or not: the time taken does not say which one (or whether one) matched.
  for (const account of accounts) {
    const want = await sha256Hex(`${account.user}:${account.password}:${tsText}`);
    if (constantTimeEqual(want, token.toLowerCase()) && user === undefined) user = account.user;
  }
  return user === undefined ? { ok: false, reason: "mismatch" } : { ok: true, user };
}
