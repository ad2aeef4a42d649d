/** The page: login, then a header (menu, language, theme) and the page the URL's hash names. */
import { html, useEffect, useState } from "./lib.js";
import { AuthError, call, currentAccount, setAccount } from "./api.js";
import { language, setLanguage, t } from "./i18n.js";
import { currentTheme, toggleTheme } from "./theme.js";
import { SECTIONS } from "./schema.js";
import { Login } from "./login.js";
import { Dashboard } from "./dashboard.js";
import { List } from "./list.js";
import { Editor } from "./editor.js";
import { History } from "./history.js";
import { TomlPage } from "./toml_page.js";

function hashRoute() {
  return location.hash || "#/";
}

/** The whole UI. */
export function App() {
  const [account, setAcc] = useState(currentAccount());
  const [schema, setSchema] = useState(null);
  const [config, setConfig] = useState(null);
  // Whether this login may only read (`api/basic` says so); the proxy refuses its writes either way.
  const [readonly, setReadonly] = useState(null);
  const [route, setRoute] = useState(hashRoute());
  const [toast, setToast] = useState("");
  const [, setTick] = useState(0);
  const rerender = () => setTick((n) => n + 1);

  useEffect(() => {
    const onHash = () => setRoute(hashRoute());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  const logout = () => {
    setAccount(null);
    setAcc(null);
    setSchema(null);
    setConfig(null);
    setReadonly(null);
  };
  const guard = async (work) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof AuthError) logout();
      else setToast(String(e));
    }
  };
  const refresh = () =>
    guard(async () => {
      const { status, data } = await call("GET", "/configs");
      setConfig(status === 200 ? data : {});
      if (status !== 200) setToast(data?.message ?? String(data));
    });
  useEffect(() => {
    if (!account) return;
    guard(async () => {
      const { data } = await call("GET", "/schema");
      setSchema(data);
    });
    guard(async () => {
      const { data } = await call("GET", "/basic");
      setReadonly(data?.readonly === true);
    });
    refresh();
  }, [account]);

  const notify = (m) => {
    setToast(m);
    setTimeout(() => setToast((now) => (now === m ? "" : now)), 4000);
  };
  const go = (h) => {
    location.hash = h;
  };
  const tools = html`<div class="tools">
    <button type="button" id="lang" onClick=${() => (setLanguage(language() === "zh" ? "en" : "zh"), rerender())}>${
    t("language")
  }</button>
    <button type="button" id="theme" onClick=${() => (toggleTheme(), rerender())}>${
    currentTheme() === "dark" ? t("light") : t("dark")
  }</button>
    ${account ? html`<button type="button" id="logout" onClick=${logout}>${t("logout")}</button>` : ""}
  </div>`;

  if (!account) {
    return html`<div class="login-page">${tools}<${Login} onLogin=${(a) => (setAccount(a), setAcc(a))} /></div>`;
  }
  const [page = "", section = "", ...rest] = route.slice(2).split("/");
  const name = decodeURIComponent(rest.join("/"));
  const ready = schema && config && readonly !== null;
  const common = { schema, config, readonly, refresh, notify, go, onAuthError: logout };
  let body;
  if (!ready) body = html`<p class="muted">…</p>`;
  else if (page === "" || page === "dashboard") body = html`<${Dashboard} ...${common} />`;
  else if (page === "list") body = html`<${List} ...${common} section=${section} />`;
  else if (page === "edit") body = html`<${Editor} key=${route} ...${common} section=${section} name=${name} />`;
  else if (page === "history") body = html`<${History} key=${route} ...${common} section=${section} name=${name} />`;
  else if (page === "toml") body = html`<${TomlPage} ...${common} />`;
  else body = html`<p>${t("notFound")}</p>`;
  const current = page === "list" || page === "edit" || page === "history" ? section : page || "dashboard";
  const link = (href, key) => html`<a href=${href} class=${current === key ? "active" : ""}>${t(key)}</a>`;
  return html`<div class="shell">
    <header>
      <strong class="brand">${t("title")}</strong>
      <nav>
        ${link("#/", "dashboard")}
        ${SECTIONS.map((s) => link(s === "basic" ? "#/edit/basic" : `#/list/${s}`, s))}
        ${link("#/toml", "toml")}
      </nav>
      ${readonly ? html`<span class="tag readonly" title=${t("readonlyNote")}>${t("readonly")}</span>` : ""}
      ${tools}
    </header>
    <main>${body}</main>
    ${toast ? html`<div class="toast" role="status">${toast}</div>` : ""}
  </div>`;
}
