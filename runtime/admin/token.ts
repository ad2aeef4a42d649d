/**
 * Pingap's admin login token: `Authorization: <hex sha256("user:pass:ts")>:<ts>`,
 * `ts` in unix seconds. The digest is compared in constant time against
 * every account; a timestamp more than `max_age` old, or more than
 * min(`max_age`, 5 minutes) ahead of the server clock, is refused. Pingap 0.16's API tokens:
 * `Authorization: Bearer <token>`, its SHA-256 compared with every one of
 * `tokens` and `readonly_tokens`.
 *
 * @module
 */
/** One admin account (the compiled `authorizations`). */
export interface AdminAccount {
  readonly user: string;
  readonly password: string;
  /** May read, never write (`readonly_authorizations`). */
  readonly readonly?: boolean;
}

/** One API token: its name and the hex SHA-256 of the token (compiled `tokens`, `readonly_tokens`). */
export interface AdminToken {
  readonly name: string;
  readonly sha256: string;
  readonly readonly: boolean;
}

/** Why a token was refused, or the account it names. */
export type TokenCheck =
  | { readonly ok: true; readonly user: string; readonly readonly: boolean }
  | { readonly ok: false; readonly reason: "missing" | "malformed" | "expired" | "mismatch" };

const encoder = new TextEncoder();

/** How far ahead of the server clock a login token's time may be, at most (Pingap 0.16). */
export const MAX_AHEAD_MS = 5 * 60_000;

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
  // At most max_age old, and (Pingap 0.16) at most min(max_age, 5 minutes) ahead: a token stamped far in the future
  // would otherwise stay good for as long as that.
  const age = nowMs / 1000 - ts;
  if (age > maxAgeMs / 1000 || -age > Math.min(maxAgeMs, MAX_AHEAD_MS) / 1000) return { ok: false, reason: "expired" };
  let found: AdminAccount | undefined;
  // Every account is tried, matched or not: the time taken does not say which one (or whether one) matched.
  for (const account of accounts) {
    const want = await sha256Hex(`${account.user}:${account.password}:${tsText}`);
    if (constantTimeEqual(want, token.toLowerCase()) && found === undefined) found = account;
  }
  return found === undefined
    ? { ok: false, reason: "mismatch" }
    : { ok: true, user: found.user, readonly: found.readonly === true };
}

/** The token of a `Bearer` Authorization value (scheme in any case), or undefined for another scheme. */
export function bearerToken(value: string | null): string | undefined {
  if (value === null || value.length < 7 || value.slice(0, 7).toLowerCase() !== "bearer ") return undefined;
  return value.slice(7).trim();
}

/**
 * Checks an API token (what follows `Bearer `) against `tokens`: its SHA-256 in constant time against every one.
 *
 * @example Usage
 * ```ts
 * import { checkBearer, sha256Hex } from "./token.ts";
 * const tokens = [{ name: "ci", sha256: await sha256Hex("t0ken"), readonly: false }];
 * const ok = await checkBearer("t0ken", tokens);
 * if (!ok.ok || ok.user !== "ci" || (await checkBearer("t0kem", tokens)).ok) throw new Error();
 * ```
 */
export async function checkBearer(token: string, tokens: readonly AdminToken[]): Promise<TokenCheck> {
  if (token === "") return { ok: false, reason: "malformed" };
  const digest = await sha256Hex(token);
  let found: AdminToken | undefined;
  for (const t of tokens) if (constantTimeEqual(t.sha256, digest) && found === undefined) found = t;
  return found === undefined
    ? { ok: false, reason: "mismatch" }
    : { ok: true, user: found.name, readonly: found.readonly };
}
