/** The login form: the account is tried against `api/basic` before it is kept. */
import { html, useState } from "./lib.js";
import { AuthError, call } from "./api.js";
import { t } from "./i18n.js";

/** The login page; `onLogin(account)` once the proxy accepts it. */
export function Login({ onLogin }) {
  const [error, setError] = useState("");
  async function submit(e) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const account = { user: String(form.get("user")), password: String(form.get("password")) };
    try {
      const { status, data } = await call("GET", "/basic", undefined, account);
      if (status === 200) return onLogin(account);
      setError(typeof data === "string" && data ? data : t("loginFailed"));
    } catch (err) {
      setError(err instanceof AuthError ? t("loginFailed") : String(err));
    }
  }
  return html`<form class="login card" onSubmit=${submit}>
    <h1>${t("title")}</h1>
    <label>${t("user")}<input name="user" autocomplete="username" required /></label>
    <label>${t("password")}<input name="password" type="password" autocomplete="current-password" /></label>
    ${error ? html`<div class="error" role="alert">${error}</div>` : ""}
    <button type="submit" class="primary" id="login">${t("login")}</button>
  </form>`;
}
