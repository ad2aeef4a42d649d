/**
 * The admin API from the page: each request carries Pingap's token (`sha256(user:password:ts):ts`), made afresh.
 * The account is kept for this tab only (sessionStorage), never sent.
 */
import { sha256Hex } from "./sha256.js";

const KEY = "pingap-admin-account";
let account = null;
try {
  account = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
} catch {
  account = null;
}

/** The account logged in, or null. */
export function currentAccount() {
  return account;
}

/** Logs in (an account) or out (null). */
export function setAccount(a) {
  account = a;
  if (a) sessionStorage.setItem(KEY, JSON.stringify(a));
  else sessionStorage.removeItem(KEY);
}

/** Thrown on 401: the page goes back to the login. */
export class AuthError extends Error {}

/** The `Authorization` value for the account, now. */
export function token(a = account) {
  const ts = Math.floor(Date.now() / 1000);
  return `${sha256Hex(`${a.user}:${a.password}:${ts}`)}:${ts}`;
}

/** Calls `api<route>`; answers `{status, data}` (data is parsed JSON, text, or null). */
export async function call(method, route, body, a = account) {
  const headers = {};
  if (a) headers.authorization = token(a);
  if (body !== undefined) headers["content-type"] = typeof body === "string" ? "text/plain" : "application/json";
  const res = await fetch(`api${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (res.status === 401) throw new AuthError(await res.text() || "401");
  const type = res.headers.get("content-type") ?? "";
  const data = res.status === 204 ? null : type.includes("json") ? await res.json() : await res.text();
  return { status: res.status, data };
}

/** The API category of a config section (`locations` → `location`). */
export function category(section) {
  return section === "basic" ? "basic" : section.replace(/s$/, "");
}

/** The route of an item: `/configs/location/app`, `/configs/basic`. */
export function itemRoute(section, name) {
  return section === "basic" ? "/configs/basic" : `/configs/${category(section)}/${encodeURIComponent(name)}`;
}
